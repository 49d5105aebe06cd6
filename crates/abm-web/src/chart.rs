//! Server-side SVG charts: the line chart of an account's score over time on the web pages,
//! and the bar charts (grouped or stacked, vertical or horizontal) of reports and the weekly
//! HTML summary.
//!
//! Every chart is a pure function from data to a standalone SVG string. There is no script,
//! no stylesheet and nothing fetched (no font, no CDN), so the same markup works inline in a
//! page, in an exported HTML file opened offline, and in a test that parses it. This module
//! owns the layout (margins, ticks, legend), the formatting of numbers and dates in labels,
//! the palette, and the escaping of every text that comes from data.
//!
//! Invariants: the output is well-formed XML whatever the input (texts are escaped,
//! characters XML cannot carry are replaced, non-finite numbers are skipped, every coordinate
//! is finite with at most one decimal); no input makes it panic; times are shown in UTC, as
//! they are stored. Text widths are estimated (no font is loaded on the server), so layout
//! leaves generous room rather than measuring.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;

/// The Okabe–Ito palette, which stays distinguishable under the common colour-vision
/// deficiencies. Ordered so the first colours have the best contrast on white; yellow, the
/// weakest, comes late. Series past the eighth reuse the colours (lines then get a dash
/// pattern so they remain distinct).
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
];

/// The text colour for a label inside a bar of the palette colour at the same index: the one
/// of white and black with the higher WCAG contrast (white on blue 5.2:1, black on orange
/// 9.3:1, ...).
const PALETTE_TEXT: [&str; 8] = [
    "#ffffff", "#000000", "#000000", "#000000", "#000000", "#000000", "#000000", "#ffffff",
];

/// Dash patterns for lines, one per trip through the palette; "" is solid.
const DASHES: [&str; 3] = ["", "6 3", "2 3"];

/// A request for a smaller canvas still gets one the layout fits in, and a huge one is capped
/// so a bad parameter cannot produce megabytes of grid.
const MIN_WIDTH: u32 = 200;
const MAX_WIDTH: u32 = 20_000;
const MIN_HEIGHT: u32 = 120;
const MAX_HEIGHT: u32 = 20_000;

const FONT_SIZE: f64 = 11.0;
const TITLE_FONT_SIZE: f64 = 14.0;
/// Average glyph width of a sans-serif face, as a fraction of the font size; slightly
/// generous so estimated labels do not collide.
const GLYPH_WIDTH: f64 = 0.6;
const MARGIN: f64 = 12.0;
/// Baseline of the first legend row, under the title.
const LEGEND_TOP: f64 = 38.0;
const LEGEND_ROW: f64 = 16.0;
const MAX_LEGEND_ROWS: usize = 3;
const SWATCH: f64 = 14.0;
const SWATCH_GAP: f64 = 5.0;
const LEGEND_ITEM_GAP: f64 = 14.0;
/// Smallest plot area, so a crowded canvas still draws something rather than negative sizes.
const MIN_PLOT: f64 = 20.0;
/// Coordinates are clamped to this many pixels either way: a value far outside a fixed
/// y range would otherwise print as a 300-digit number; a point that far off is drawn as a
/// near-vertical line either way.
const COORD_LIMIT: f64 = 1_000_000.0;

const TEXT_COLOR: &str = "#222222";
const MUTED_COLOR: &str = "#555555";
const GRID_COLOR: &str = "#e5e5e5";
const AXIS_COLOR: &str = "#888888";
const FONT_FAMILY: &str = "system-ui, sans-serif";

const MINUTE: i64 = 60_000_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;
/// The epoch fell on a Thursday; weekly ticks are aligned to Mondays, four days later.
const FIRST_MONDAY: i64 = 4 * DAY;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// One line of a [`LineChart`]: `points` are (microseconds since the Unix epoch, value), in
/// any order. Points whose value is NaN or infinite, or whose time is outside the years
/// -9999..=9999, are skipped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    pub name: String,
    pub points: Vec<(i64, f64)>,
}

/// Values over time, one line per series, with a time x axis (UTC) and a value y axis.
///
/// `y_range` fixes the y axis (e.g. `(0.0, 100.0)` for scores) so charts of different
/// accounts compare at a glance; values outside it are clipped. Without it, or when it is
/// not a finite `(low, high)` with `low < high`, the axis fits the data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineChart {
    pub title: String,
    pub y_label: Option<String>,
    pub y_range: Option<(f64, f64)>,
    pub series: Vec<Series>,
}

/// One colour of a [`BarChart`]: `values[i]` belongs to `categories[i]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BarSeries {
    pub name: String,
    pub values: Vec<f64>,
}

/// Bars per category, one per series side by side (`stacked: false`) or piled into one bar
/// (`stacked: true`; positive values stack up from zero, negative ones down), upright or
/// `horizontal` (categories down the left, which suits long names such as funnel stages).
///
/// Lengths need not match: a series with fewer values than there are categories counts the
/// missing ones as 0 (drawn as an empty bar labelled 0, since "no pipeline" is a fact worth
/// showing); values past the last category are ignored. A NaN or infinite value is skipped:
/// no bar, no label, and it does not count towards a stack's total.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BarChart {
    pub title: String,
    pub categories: Vec<String>,
    pub series: Vec<BarSeries>,
    pub stacked: bool,
    pub horizontal: bool,
}

/// Escapes text for XML content and attribute values: `& < > " '` become entities, and the
/// control characters XML 1.0 cannot carry at all (even escaped) become U+FFFD, so a stray
/// byte in an imported company name cannot break the document.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\t' | '\n' | '\r' => escaped.push(character),
            control if u32::from(control) < 0x20 => escaped.push('\u{FFFD}'),
            '\u{FFFE}' | '\u{FFFF}' => escaped.push('\u{FFFD}'),
            other => escaped.push(other),
        }
    }
    escaped
}

/// A number in at most about four characters for labels: three significant digits, with
/// k/M/B/T for thousands, millions, billions and trillions (`1234.0` → `1.2k`, `3_400_000.0`
/// → `3.4M`, `0.25` → `0.25`, `12.345` → `12.3`). Beyond that range it falls back to
/// scientific notation; NaN and infinities, which have no place on a chart, read `n/a`.
pub fn compact_number(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".to_owned();
    }
    if value == 0.0 {
        return "0".to_owned();
    }
    let sign = if value < 0.0 { "-" } else { "" };
    let magnitude = value.abs();
    if !(1e-6..1e15).contains(&magnitude) {
        return format!("{sign}{magnitude:.1e}");
    }
    // Rounding first means 999_960 becomes 1M rather than "1000k".
    let rounded = round_significant(magnitude, 3);
    let (scaled, suffix) = if rounded >= 1e12 {
        (rounded / 1e12, "T")
    } else if rounded >= 1e9 {
        (rounded / 1e9, "B")
    } else if rounded >= 1e6 {
        (rounded / 1e6, "M")
    } else if rounded >= 1e3 {
        (rounded / 1e3, "k")
    } else {
        (rounded, "")
    };
    let decimals = if suffix.is_empty() {
        (2 - rounded.log10().floor() as i32).clamp(0, 8) as usize
    } else if scaled < 100.0 {
        1
    } else {
        0
    };
    format!(
        "{sign}{}{suffix}",
        trim_number(format!("{scaled:.decimals$}"))
    )
}

impl LineChart {
    /// The chart as a standalone `<svg>` element of `width` × `height` pixels (clamped to
    /// 200..=20000 × 120..=20000).
    pub fn svg(&self, width: u32, height: u32) -> String {
        let (width, height) = canvas_size(width, height);
        let series: Vec<PreparedSeries> = self
            .series
            .iter()
            .enumerate()
            .map(|(index, series)| PreparedSeries::new(index, series))
            .collect();
        let bounds = DataBounds::of(&series);
        let mut svg = Svg::default();
        begin(
            &mut svg,
            width,
            height,
            &self.title,
            &self.describe(&series),
        );

        let legend_entries: Vec<LegendEntry> = series
            .iter()
            .map(|series| LegendEntry {
                label: series.name.clone(),
                swatch: Swatch::Line {
                    color: series.color,
                    dash: series.dash,
                },
            })
            .collect();
        let legend = layout_legend(&legend_entries, MARGIN, LEGEND_TOP, width - 2.0 * MARGIN);
        draw_legend(&mut svg, &legend_entries, &legend);
        let top = LEGEND_TOP + legend.height + 4.0;

        let Some(bounds) = bounds else {
            no_data(&mut svg, width, top, height);
            return svg.finish();
        };
        let (time_min, time_max) = time_domain(bounds.time_min, bounds.time_max);
        let y_axis = match self.fixed_y_range() {
            Some((low, high)) => nice_axis(low, high, false),
            None => nice_axis(bounds.value_min, bounds.value_max, true),
        };
        let y_label = self
            .y_label
            .as_deref()
            .filter(|label| !label.trim().is_empty());
        let y_label_room = if y_label.is_some() { 18.0 } else { 0.0 };
        let left = MARGIN + y_label_room + y_axis.widest_label() + 6.0;
        // The right margin leaves room for half of the last date label.
        let plot = Plot::new(left, top, width - left - 28.0, height - top - 26.0);

        draw_value_grid_vertical(&mut svg, &plot, &y_axis);
        let max_ticks = ((plot.width / 90.0).floor() as usize).clamp(2, 10);
        let ticks = time_ticks(time_min, time_max, max_ticks);
        svg.open("g", &[("class", "x-axis")]);
        for (time, label) in &ticks {
            let x = plot.left + plot.width * time_fraction(*time, time_min, time_max);
            grid_line(&mut svg, x, plot.top, x, plot.bottom());
            svg.element(
                "text",
                &[
                    ("x", &coord(x)),
                    ("y", &coord(plot.bottom() + 16.0)),
                    ("text-anchor", "middle"),
                    ("fill", MUTED_COLOR),
                ],
                label,
            );
        }
        svg.close("g");
        if let Some(label) = y_label {
            let center = plot.top + plot.height / 2.0;
            svg.element(
                "text",
                &[
                    ("class", "y-label"),
                    (
                        "transform",
                        &format!("rotate(-90 {} {})", coord(MARGIN + 8.0), coord(center)),
                    ),
                    ("x", &coord(MARGIN + 8.0)),
                    ("y", &coord(center)),
                    ("text-anchor", "middle"),
                    ("fill", MUTED_COLOR),
                ],
                label,
            );
        }
        draw_axis_lines(&mut svg, &plot);

        // The plot is a nested <svg>, which clips what falls outside it (values beyond a
        // fixed y range) without a clipPath, whose id could clash with another chart on the
        // same page. It is padded so markers on the edges are not cut in half.
        let pad = 4.0;
        svg.open(
            "svg",
            &[
                ("class", "plot"),
                ("x", &coord(plot.left - pad)),
                ("y", &coord(plot.top - pad)),
                ("width", &coord(plot.width + 2.0 * pad)),
                ("height", &coord(plot.height + 2.0 * pad)),
                ("overflow", "hidden"),
            ],
        );
        let with_time = carries_time_of_day(&series);
        for series in &series {
            let points = thin(&series.points, time_min, time_max, plot.width as usize);
            let positions: Vec<(f64, f64)> = points
                .iter()
                .map(|&(time, value)| {
                    (
                        pad + plot.width * time_fraction(time, time_min, time_max),
                        pad + plot.height * (1.0 - y_axis.fraction(value)),
                    )
                })
                .collect();
            svg.open("g", &[("class", "series")]);
            if positions.len() >= 2 {
                let path: Vec<String> = positions
                    .iter()
                    .map(|&(x, y)| format!("{},{}", coord(x), coord(y)))
                    .collect();
                svg.empty(
                    "polyline",
                    &[
                        ("points", &path.join(" ")),
                        ("fill", "none"),
                        ("stroke", series.color),
                        ("stroke-width", "2"),
                        ("stroke-dasharray", series.dash),
                        ("stroke-linejoin", "round"),
                    ],
                );
            }
            // Markers shrink when points are dense, or they would merge into a band.
            let radius = if plot.width / (positions.len().max(1) as f64) >= 8.0 {
                "3"
            } else {
                "2"
            };
            for (&(time, value), &(x, y)) in points.iter().zip(&positions) {
                svg.open(
                    "circle",
                    &[
                        ("cx", &coord(x)),
                        ("cy", &coord(y)),
                        ("r", radius),
                        ("fill", series.color),
                    ],
                );
                let tooltip = format!(
                    "{}: {} on {}",
                    series.name,
                    plain_number(value),
                    date_label(time, with_time)
                );
                svg.element("title", &[], &tooltip);
                svg.close("circle");
            }
            svg.close("g");
        }
        svg.close("svg");
        svg.finish()
    }

    fn fixed_y_range(&self) -> Option<(f64, f64)> {
        self.y_range
            .filter(|(low, high)| low.is_finite() && high.is_finite() && low < high)
    }

    /// The `<desc>` a screen reader announces: per series, how many points over which dates
    /// and the lowest and highest value, which is what a sighted reader takes from the shape.
    fn describe(&self, series: &[PreparedSeries]) -> String {
        let with_time = carries_time_of_day(series);
        let mut parts: Vec<String> = series
            .iter()
            .take(10)
            .map(|series| {
                let (Some(first), Some(last)) = (series.points.first(), series.points.last())
                else {
                    return format!("{}: no data", series.name);
                };
                let (low, high) = series.points.iter().fold(
                    (f64::INFINITY, f64::NEG_INFINITY),
                    |(low, high), &(_, value)| (low.min(value), high.max(value)),
                );
                format!(
                    "{}: {} points from {} to {}, lowest {}, highest {}",
                    series.name,
                    series.points.len(),
                    date_label(first.0, with_time),
                    date_label(last.0, with_time),
                    plain_number(low),
                    plain_number(high)
                )
            })
            .collect();
        if series.len() > 10 {
            parts.push(format!("and {} more series", series.len() - 10));
        }
        let count = match series.len() {
            1 => "1 series".to_owned(),
            count => format!("{count} series"),
        };
        if parts.is_empty() {
            format!("Line chart with {count}.")
        } else {
            format!("Line chart with {count}. {}.", parts.join("; "))
        }
    }
}

impl BarChart {
    /// The chart as a standalone `<svg>` element of `width` × `height` pixels (clamped to
    /// 200..=20000 × 120..=20000).
    pub fn svg(&self, width: u32, height: u32) -> String {
        let (width, height) = canvas_size(width, height);
        let mut svg = Svg::default();
        begin(&mut svg, width, height, &self.title, &self.describe());
        let legend_entries: Vec<LegendEntry> = self
            .series
            .iter()
            .enumerate()
            .map(|(index, series)| LegendEntry {
                label: display_name(&series.name, index),
                swatch: Swatch::Block {
                    color: series_style(index).0,
                },
            })
            .collect();
        let legend = layout_legend(&legend_entries, MARGIN, LEGEND_TOP, width - 2.0 * MARGIN);
        draw_legend(&mut svg, &legend_entries, &legend);
        let top = LEGEND_TOP + legend.height + 4.0;
        if self.categories.is_empty() || self.series.is_empty() {
            no_data(&mut svg, width, top, height);
            return svg.finish();
        }
        let (low, high) = self.value_extent();
        let axis = nice_axis(low, high, true);
        let layout = BarLayout {
            width,
            height,
            top,
            axis,
        };
        if self.horizontal {
            self.draw_horizontal(&mut svg, &layout);
        } else {
            self.draw_vertical(&mut svg, &layout);
        }
        svg.finish()
    }

    /// The value of one bar: `Some(0.0)` when the series is too short, `None` when the value
    /// is not finite.
    fn cell(series: &BarSeries, category: usize) -> Option<f64> {
        match series.values.get(category) {
            None => Some(0.0),
            Some(value) if value.is_finite() => Some(*value),
            Some(_) => None,
        }
    }

    /// The lowest and highest point any bar reaches, always including zero since bars start
    /// there.
    fn value_extent(&self) -> (f64, f64) {
        let (mut low, mut high) = (0.0_f64, 0.0_f64);
        for category in 0..self.categories.len() {
            let values = self
                .series
                .iter()
                .filter_map(|series| Self::cell(series, category));
            if self.stacked {
                let (negative, positive) = stack_sums(values);
                low = low.min(negative);
                high = high.max(positive);
            } else {
                for value in values {
                    low = low.min(value);
                    high = high.max(value);
                }
            }
        }
        (low, high)
    }

    fn draw_vertical(&self, svg: &mut Svg, layout: &BarLayout) {
        let axis = &layout.axis;
        let left = MARGIN + axis.widest_label() + 6.0;
        // Extra room on top for the value label of a bar that reaches the axis maximum.
        let top = layout.top + 14.0;
        let plot = Plot::new(
            left,
            top,
            layout.width - left - 16.0,
            layout.height - top - 26.0,
        );
        draw_value_grid_vertical(svg, &plot, axis);

        let band = plot.width / self.categories.len() as f64;
        svg.open("g", &[("class", "x-axis")]);
        for (index, category) in self.categories.iter().enumerate() {
            let center = plot.left + band * (index as f64 + 0.5);
            category_label(
                svg,
                category,
                band - 4.0,
                &[
                    ("x", &coord(center)),
                    ("y", &coord(plot.bottom() + 16.0)),
                    ("text-anchor", "middle"),
                ],
            );
        }
        svg.close("g");

        let value_y = |value: f64| plot.top + plot.height * (1.0 - axis.fraction(value));
        let zero = value_y(0.0);
        let mut labels = Vec::new();
        svg.open("g", &[("class", "bars")]);
        for (category_index, category) in self.categories.iter().enumerate() {
            let band_left = plot.left + band * category_index as f64;
            if self.stacked {
                let bar_width = band * 0.6;
                let x = band_left + band * 0.2;
                let center = x + bar_width / 2.0;
                let (mut positive, mut negative) = (0.0_f64, 0.0_f64);
                for (series_index, series) in self.series.iter().enumerate() {
                    let Some(value) = Self::cell(series, category_index) else {
                        continue;
                    };
                    let base = if value >= 0.0 { positive } else { negative };
                    let end = clamp_sum(base + value);
                    if value >= 0.0 {
                        positive = end;
                    } else {
                        negative = end;
                    }
                    let (y0, y1) = (value_y(base), value_y(end));
                    let rect = Rect {
                        x,
                        y: y0.min(y1),
                        width: bar_width,
                        height: (y1 - y0).abs(),
                    };
                    bar(svg, &rect, series_index, &series.name, category, value);
                    let text = compact_number(value);
                    if value != 0.0
                        && rect.height >= FONT_SIZE + 2.0
                        && text_width(&text) <= bar_width
                    {
                        labels.push(ValueLabel::inside(
                            center,
                            rect.y + rect.height / 2.0 + 4.0,
                            text,
                            series_index,
                        ));
                    }
                }
                let total = clamp_sum(positive + negative);
                let text = compact_number(total);
                if text_width(&text) <= band {
                    let y = if positive > 0.0 || negative == 0.0 {
                        value_y(positive) - 4.0
                    } else {
                        value_y(negative) + FONT_SIZE + 2.0
                    };
                    labels.push(ValueLabel::new(center, y, "middle", text, "total"));
                }
            } else {
                let slot = band * 0.8 / self.series.len() as f64;
                for (series_index, series) in self.series.iter().enumerate() {
                    let Some(value) = Self::cell(series, category_index) else {
                        continue;
                    };
                    let x = band_left + band * 0.1 + slot * series_index as f64;
                    let y = value_y(value);
                    let rect = Rect {
                        x,
                        y: y.min(zero),
                        width: slot * 0.9,
                        height: (y - zero).abs(),
                    };
                    bar(svg, &rect, series_index, &series.name, category, value);
                    let text = compact_number(value);
                    if text_width(&text) <= slot + 2.0 {
                        let label_y = if value >= 0.0 {
                            y - 4.0
                        } else {
                            y + FONT_SIZE + 2.0
                        };
                        labels.push(ValueLabel::new(
                            x + rect.width / 2.0,
                            label_y,
                            "middle",
                            text,
                            "value",
                        ));
                    }
                }
            }
        }
        svg.close("g");
        svg.empty(
            "line",
            &[
                ("class", "baseline"),
                ("x1", &coord(plot.left)),
                ("y1", &coord(zero)),
                ("x2", &coord(plot.right())),
                ("y2", &coord(zero)),
                ("stroke", AXIS_COLOR),
            ],
        );
        draw_value_labels(svg, &labels);
    }

    fn draw_horizontal(&self, svg: &mut Svg, layout: &BarLayout) {
        let axis = &layout.axis;
        let widest_category = self
            .categories
            .iter()
            .map(|category| text_width(category))
            .fold(0.0, f64::max);
        let category_room = widest_category.min(layout.width * 0.35);
        let left = MARGIN + category_room + 8.0;
        // The right margin holds the value label of the longest bar.
        let plot = Plot::new(
            left,
            layout.top,
            layout.width - left - 44.0,
            layout.height - layout.top - 26.0,
        );

        let value_x = |value: f64| plot.left + plot.width * axis.fraction(value);
        svg.open("g", &[("class", "x-axis")]);
        for (value, label) in &axis.ticks {
            let x = value_x(*value);
            grid_line(svg, x, plot.top, x, plot.bottom());
            svg.element(
                "text",
                &[
                    ("x", &coord(x)),
                    ("y", &coord(plot.bottom() + 16.0)),
                    ("text-anchor", "middle"),
                    ("fill", MUTED_COLOR),
                ],
                label,
            );
        }
        svg.close("g");

        let band = plot.height / self.categories.len() as f64;
        svg.open("g", &[("class", "y-axis")]);
        for (index, category) in self.categories.iter().enumerate() {
            let center = plot.top + band * (index as f64 + 0.5);
            category_label(
                svg,
                category,
                category_room,
                &[
                    ("x", &coord(plot.left - 6.0)),
                    ("y", &coord(center + 4.0)),
                    ("text-anchor", "end"),
                ],
            );
        }
        svg.close("g");

        let zero = value_x(0.0);
        let mut labels = Vec::new();
        svg.open("g", &[("class", "bars")]);
        for (category_index, category) in self.categories.iter().enumerate() {
            let band_top = plot.top + band * category_index as f64;
            if self.stacked {
                let thickness = band * 0.6;
                let y = band_top + band * 0.2;
                let center = y + thickness / 2.0 + 4.0;
                let (mut positive, mut negative) = (0.0_f64, 0.0_f64);
                for (series_index, series) in self.series.iter().enumerate() {
                    let Some(value) = Self::cell(series, category_index) else {
                        continue;
                    };
                    let base = if value >= 0.0 { positive } else { negative };
                    let end = clamp_sum(base + value);
                    if value >= 0.0 {
                        positive = end;
                    } else {
                        negative = end;
                    }
                    let (x0, x1) = (value_x(base), value_x(end));
                    let rect = Rect {
                        x: x0.min(x1),
                        y,
                        width: (x1 - x0).abs(),
                        height: thickness,
                    };
                    bar(svg, &rect, series_index, &series.name, category, value);
                    let text = compact_number(value);
                    if value != 0.0
                        && thickness >= FONT_SIZE
                        && text_width(&text) + 4.0 <= rect.width
                    {
                        labels.push(ValueLabel::inside(
                            rect.x + rect.width / 2.0,
                            center,
                            text,
                            series_index,
                        ));
                    }
                }
                if thickness >= FONT_SIZE - 1.0 {
                    let total = clamp_sum(positive + negative);
                    let (x, anchor) = if positive > 0.0 || negative == 0.0 {
                        (value_x(positive) + 4.0, "start")
                    } else {
                        (value_x(negative) - 4.0, "end")
                    };
                    labels.push(ValueLabel::new(
                        x,
                        center,
                        anchor,
                        compact_number(total),
                        "total",
                    ));
                }
            } else {
                let slot = band * 0.8 / self.series.len() as f64;
                for (series_index, series) in self.series.iter().enumerate() {
                    let Some(value) = Self::cell(series, category_index) else {
                        continue;
                    };
                    let y = band_top + band * 0.1 + slot * series_index as f64;
                    let x = value_x(value);
                    let rect = Rect {
                        x: x.min(zero),
                        y,
                        width: (x - zero).abs(),
                        height: slot * 0.9,
                    };
                    bar(svg, &rect, series_index, &series.name, category, value);
                    if rect.height >= FONT_SIZE - 1.0 {
                        let (label_x, anchor) = if value >= 0.0 {
                            (x + 4.0, "start")
                        } else {
                            (x - 4.0, "end")
                        };
                        let center = y + rect.height / 2.0 + 4.0;
                        labels.push(ValueLabel::new(
                            label_x,
                            center,
                            anchor,
                            compact_number(value),
                            "value",
                        ));
                    }
                }
            }
        }
        svg.close("g");
        svg.empty(
            "line",
            &[
                ("class", "baseline"),
                ("x1", &coord(zero)),
                ("y1", &coord(plot.top)),
                ("x2", &coord(zero)),
                ("y2", &coord(plot.bottom())),
                ("stroke", AXIS_COLOR),
            ],
        );
        draw_value_labels(svg, &labels);
    }

    fn describe(&self) -> String {
        let kind = match (self.stacked, self.horizontal) {
            (false, false) => "Grouped bar chart",
            (false, true) => "Grouped horizontal bar chart",
            (true, false) => "Stacked bar chart",
            (true, true) => "Stacked horizontal bar chart",
        };
        let series: Vec<String> = self
            .series
            .iter()
            .enumerate()
            .map(|(index, series)| display_name(&series.name, index))
            .collect();
        format!(
            "{kind} of {} categories ({}) by {} series ({}).",
            self.categories.len(),
            list_some(&self.categories),
            self.series.len(),
            list_some(&series)
        )
    }
}

/// A series with its display name and style, keeping only drawable points, sorted by time.
struct PreparedSeries {
    name: String,
    points: Vec<(i64, f64)>,
    color: &'static str,
    dash: &'static str,
}

impl PreparedSeries {
    fn new(index: usize, series: &Series) -> Self {
        let mut points: Vec<(i64, f64)> = series
            .points
            .iter()
            .copied()
            .filter(|&(time, value)| value.is_finite() && Timestamp::from_microsecond(time).is_ok())
            .collect();
        points.sort_by_key(|&(time, _)| time);
        let (color, dash) = series_style(index);
        Self {
            name: display_name(&series.name, index),
            points,
            color,
            dash,
        }
    }
}

/// The extent of all drawable points of a line chart; `None` when there are none.
#[derive(Debug, Clone, Copy)]
struct DataBounds {
    time_min: i64,
    time_max: i64,
    value_min: f64,
    value_max: f64,
}

impl DataBounds {
    fn of(series: &[PreparedSeries]) -> Option<Self> {
        let mut points = series
            .iter()
            .flat_map(|series| series.points.iter().copied());
        let (time, value) = points.next()?;
        let first = Self {
            time_min: time,
            time_max: time,
            value_min: value,
            value_max: value,
        };
        Some(points.fold(first, |bounds, (time, value)| Self {
            time_min: bounds.time_min.min(time),
            time_max: bounds.time_max.max(time),
            value_min: bounds.value_min.min(value),
            value_max: bounds.value_max.max(value),
        }))
    }
}

/// The plot area, in canvas pixels.
#[derive(Debug, Clone, Copy)]
struct Plot {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
}

impl Plot {
    fn new(left: f64, top: f64, width: f64, height: f64) -> Self {
        Self {
            left,
            top,
            width: width.max(MIN_PLOT),
            height: height.max(MIN_PLOT),
        }
    }

    fn right(&self) -> f64 {
        self.left + self.width
    }

    fn bottom(&self) -> f64 {
        self.top + self.height
    }
}

struct BarLayout {
    width: f64,
    height: f64,
    top: f64,
    axis: Axis,
}

struct Rect {
    x: f64,
    y: f64,
    width: f64,
    height: f64,
}

/// A label drawn over the bars once they are all drawn, so a later bar never hides it.
struct ValueLabel {
    x: f64,
    y: f64,
    anchor: &'static str,
    text: String,
    class: &'static str,
    /// For a label inside a segment, the text colour that contrasts with it; a label
    /// outside the bars is dark with a white halo.
    inside: Option<&'static str>,
}

impl ValueLabel {
    fn new(x: f64, y: f64, anchor: &'static str, text: String, class: &'static str) -> Self {
        Self {
            x,
            y,
            anchor,
            text,
            class,
            inside: None,
        }
    }

    fn inside(x: f64, y: f64, text: String, series_index: usize) -> Self {
        Self {
            inside: Some(PALETTE_TEXT[series_index % PALETTE_TEXT.len()]),
            ..Self::new(x, y, "middle", text, "value")
        }
    }
}

/// A value axis: its domain and its ticks with their labels.
#[derive(Debug, Clone, PartialEq)]
struct Axis {
    min: f64,
    max: f64,
    ticks: Vec<(f64, String)>,
}

impl Axis {
    /// Where `value` falls between the ends, 0 at `min` and 1 at `max`. Halving first keeps
    /// the arithmetic finite for domains near `f64::MAX`.
    fn fraction(&self, value: f64) -> f64 {
        let span = self.max / 2.0 - self.min / 2.0;
        let fraction = (value / 2.0 - self.min / 2.0) / span;
        if fraction.is_finite() { fraction } else { 0.0 }
    }

    /// The fallback for domains nice ticks cannot serve (spans beyond `f64::MAX`, or tiny
    /// spans far from zero): just the two ends.
    fn plain(low: f64, high: f64) -> Self {
        let high = if high > low { high } else { low + 1.0 };
        Self {
            min: low,
            max: high,
            ticks: vec![(low, compact_number(low)), (high, compact_number(high))],
        }
    }

    fn widest_label(&self) -> f64 {
        self.ticks
            .iter()
            .map(|(_, label)| text_width(label))
            .fold(0.0, f64::max)
    }
}

/// A y axis over `low..=high` with 4–6 ticks at multiples of 1, 2 or 5 × 10ⁿ.
///
/// With `extend`, the domain may grow to the enclosing tick multiples (0..87 becomes 0..100)
/// so the axis ends on a label, unless that would waste more than a quarter of the plot;
/// otherwise the domain stays `low..=high` and the ticks are the multiples inside it. Equal
/// ends are widened (by 10%, or to 0..1 around zero) so a flat line sits mid-plot.
fn nice_axis(low: f64, high: f64, extend: bool) -> Axis {
    let (low, high) = if low < high {
        (low, high)
    } else if low > high {
        (high, low)
    } else if low == 0.0 {
        (0.0, 1.0)
    } else {
        let pad = low.abs() * 0.1;
        (clamp_sum(low - pad), clamp_sum(high + pad))
    };
    let range = high - low;
    if !(range.is_finite() && range > 0.0) {
        return Axis::plain(low, high);
    }

    struct Candidate {
        rank: (u8, u8, i64),
        waste: f64,
        count: i64,
        axis: Axis,
    }
    let mut best: Option<Candidate> = None;
    let base_exponent = (range / 5.0).log10().floor() as i32;
    for exponent in (base_exponent - 1)..=(base_exponent + 1) {
        for mantissa in [1.0, 2.0, 5.0] {
            let step = mantissa * 10f64.powi(exponent);
            let (low_steps, high_steps) = (low / step, high / step);
            // Past 10^15 steps from zero (near the 2^53 limit of exact integers in a float)
            // the ticks would no longer be exact multiples.
            if !(step > 0.0 && low_steps.abs() < 1e15 && high_steps.abs() < 1e15) {
                continue;
            }
            let mut options = vec![(low_steps.ceil(), high_steps.floor(), false)];
            if extend {
                options.push((low_steps.floor(), high_steps.ceil(), true));
            }
            for (first, last, extended) in options {
                let count = (last - first) as i64 + 1;
                if count < 2 {
                    continue;
                }
                let (domain_low, domain_high) = if extended {
                    (
                        tick_value(first, mantissa, exponent),
                        tick_value(last, mantissa, exponent),
                    )
                } else {
                    (low, high)
                };
                let waste = (domain_high - domain_low - range) / range;
                let kind = match (extended, waste <= 0.25) {
                    (true, true) => 0,
                    (false, _) => 1,
                    (true, false) => 2,
                };
                let out_of_band = u8::from(!(4..=6).contains(&count));
                let rank = (out_of_band, kind, (count - 5).abs());
                // Ties go to the tighter domain, then to fewer ticks: 3 clean ticks read
                // better than 7 crowded ones.
                let better = match &best {
                    None => true,
                    Some(current) => rank
                        .cmp(&current.rank)
                        .then(waste.total_cmp(&current.waste))
                        .then(count.cmp(&current.count))
                        .is_lt(),
                };
                if better {
                    let values: Vec<f64> = (0..count)
                        .map(|offset| tick_value(first + offset as f64, mantissa, exponent))
                        .collect();
                    let labels = tick_labels(&values, exponent);
                    best = Some(Candidate {
                        rank,
                        waste,
                        count,
                        axis: Axis {
                            min: domain_low,
                            max: domain_high,
                            ticks: values.into_iter().zip(labels).collect(),
                        },
                    });
                }
            }
        }
    }
    best.map(|candidate| candidate.axis)
        .unwrap_or_else(|| Axis::plain(low, high))
}

/// `index` × `mantissa` × 10^`exponent`, computed so that 3 × 0.1 is 0.3 rather than
/// 0.30000000000000004: dividing by an exact power of ten rounds correctly.
fn tick_value(index: f64, mantissa: f64, exponent: i32) -> f64 {
    let value = if exponent >= 0 {
        index * mantissa * 10f64.powi(exponent)
    } else {
        index * mantissa / 10f64.powi(-exponent)
    };
    // Normalise -0 so it prints as "0".
    value + 0.0
}

/// Labels for ticks spaced by a step of 10^`exponent` (times 1, 2 or 5): one unit suffix for
/// the whole axis, and just enough decimals to tell neighbours apart (10.2k next to 10.4k).
fn tick_labels(ticks: &[f64], exponent: i32) -> Vec<String> {
    let largest = ticks
        .iter()
        .fold(0.0_f64, |largest, tick| largest.max(tick.abs()));
    if largest >= 1e15 {
        return ticks.iter().map(|&tick| compact_number(tick)).collect();
    }
    // The largest unit the ticks reach, unless steps are so fine that it would take more
    // than one decimal: -998, -996 read better than -0.998k, -0.996k.
    let (unit_exponent, suffix) = [(12, "T"), (9, "B"), (6, "M"), (3, "k")]
        .into_iter()
        .find(|&(unit_exponent, _)| {
            largest >= 10f64.powi(unit_exponent) && unit_exponent <= exponent + 1
        })
        .unwrap_or((0, ""));
    let decimals = (unit_exponent - exponent).clamp(0, 12) as usize;
    let unit = 10f64.powi(unit_exponent);
    ticks
        .iter()
        .map(|&tick| {
            let text = trim_number(format!("{:.decimals$}", tick / unit));
            if text == "0" {
                text
            } else {
                format!("{text}{suffix}")
            }
        })
        .collect()
}

/// The spacing between time ticks.
#[derive(Debug, Clone, Copy, PartialEq)]
enum TimeStep {
    /// A fixed number of microseconds (minutes to days), aligned to the epoch in UTC.
    Fixed(i64),
    /// Weeks starting on Monday.
    Weeks(i64),
    /// Calendar months starting on the 1st, aligned so 3 months fall on quarters.
    Months(i64),
    /// Calendar years starting on 1 January, aligned to multiples of the step.
    Years(i64),
}

const TIME_STEPS: [TimeStep; 29] = [
    TimeStep::Fixed(MINUTE),
    TimeStep::Fixed(5 * MINUTE),
    TimeStep::Fixed(15 * MINUTE),
    TimeStep::Fixed(30 * MINUTE),
    TimeStep::Fixed(HOUR),
    TimeStep::Fixed(2 * HOUR),
    TimeStep::Fixed(3 * HOUR),
    TimeStep::Fixed(6 * HOUR),
    TimeStep::Fixed(12 * HOUR),
    TimeStep::Fixed(DAY),
    TimeStep::Fixed(2 * DAY),
    TimeStep::Weeks(1),
    TimeStep::Weeks(2),
    TimeStep::Months(1),
    TimeStep::Months(2),
    TimeStep::Months(3),
    TimeStep::Months(6),
    TimeStep::Years(1),
    TimeStep::Years(2),
    TimeStep::Years(5),
    TimeStep::Years(10),
    TimeStep::Years(20),
    TimeStep::Years(50),
    TimeStep::Years(100),
    TimeStep::Years(200),
    TimeStep::Years(500),
    TimeStep::Years(1000),
    TimeStep::Years(2000),
    TimeStep::Years(5000),
];

/// The most ticks one step generates; the step is chosen for at most 10, so this only
/// bounds the loop.
const MAX_GENERATED_TICKS: usize = 64;

impl TimeStep {
    fn approximate_micros(self) -> f64 {
        match self {
            Self::Fixed(micros) => micros as f64,
            Self::Weeks(weeks) => (weeks * WEEK) as f64,
            Self::Months(months) => months as f64 * 30.44 * DAY as f64,
            Self::Years(years) => years as f64 * 365.25 * DAY as f64,
        }
    }

    /// The tick times in `min..=max`.
    fn ticks(self, min: i64, max: i64) -> Vec<i64> {
        match self {
            Self::Fixed(size) => fixed_ticks(min, max, size, 0),
            Self::Weeks(weeks) => fixed_ticks(min, max, weeks * WEEK, FIRST_MONDAY),
            Self::Months(months) => calendar_ticks(min, max, months, 12),
            Self::Years(years) => calendar_ticks(min, max, years, 1),
        }
    }
}

fn fixed_ticks(min: i64, max: i64, size: i64, offset: i64) -> Vec<i64> {
    let floor = min
        .saturating_sub(offset)
        .div_euclid(size)
        .saturating_mul(size)
        .saturating_add(offset);
    let mut tick = if floor < min {
        floor.saturating_add(size)
    } else {
        floor
    };
    let mut ticks = Vec::new();
    while tick <= max && ticks.len() < MAX_GENERATED_TICKS {
        ticks.push(tick);
        tick = tick.saturating_add(size);
    }
    ticks
}

/// Ticks on the 1st of a month (`per_year` 12) or of January (`per_year` 1), every `step`
/// months or years, counted from year 0 so the same span always gets the same ticks.
fn calendar_ticks(min: i64, max: i64, step: i64, per_year: i64) -> Vec<i64> {
    let Some(start) = civil(min) else {
        return Vec::new();
    };
    let months_into_year = if per_year == 12 {
        i64::from(start.month()) - 1
    } else {
        0
    };
    let mut index = i64::from(start.year()) * per_year + months_into_year;
    let period_start = if per_year == 12 {
        Date::new(start.year(), start.month(), 1).ok()
    } else {
        Date::new(start.year(), 1, 1).ok()
    };
    if period_start.and_then(date_micros) != Some(min) {
        index += 1;
    }
    index = index.div_euclid(step) * step + if index.rem_euclid(step) == 0 { 0 } else { step };
    let mut ticks = Vec::new();
    while ticks.len() < MAX_GENERATED_TICKS {
        let (year, month) = (index.div_euclid(per_year), index.rem_euclid(per_year) + 1);
        let Ok(year) = i16::try_from(year) else { break };
        let Ok(month) = i8::try_from(month) else {
            break;
        };
        let Some(tick) = Date::new(year, month, 1).ok().and_then(date_micros) else {
            break;
        };
        if tick > max {
            break;
        }
        ticks.push(tick);
        index += step;
    }
    ticks
}

/// Readable ticks for a time axis over `min..=max` (microseconds): the finest step that
/// yields at most `max_ticks`, labelled by what it counts — "14:00" for hours, "Mar 3" for
/// days and weeks (YYYY-MM-DD when the span crosses a year), "Mar 2025" for months, "2025"
/// for years.
fn time_ticks(min: i64, max: i64, max_ticks: usize) -> Vec<(i64, String)> {
    let span = max.saturating_sub(min) as f64;
    let step = TIME_STEPS
        .iter()
        .copied()
        .find(|step| span / step.approximate_micros() + 1.0 <= max_ticks as f64)
        .unwrap_or(TimeStep::Years(5000));
    let same_year = match (civil(min), civil(max)) {
        (Some(first), Some(last)) => first.year() == last.year(),
        _ => false,
    };
    step.ticks(min, max)
        .into_iter()
        .filter_map(|tick| {
            let moment = civil(tick)?;
            let date = moment.date();
            let label = match step {
                TimeStep::Fixed(size) if size < DAY && moment.time() != Time::midnight() => {
                    format!("{:02}:{:02}", moment.hour(), moment.minute())
                }
                TimeStep::Fixed(_) | TimeStep::Weeks(_) if !same_year => date.to_string(),
                TimeStep::Fixed(_) | TimeStep::Weeks(_) => {
                    format!("{} {}", month_name(date), date.day())
                }
                TimeStep::Months(_) => format!("{} {}", month_name(date), date.year()),
                TimeStep::Years(_) => date.year().to_string(),
            };
            Some((tick, label))
        })
        .collect()
}

/// The time axis of a line chart: points' own span, widened to two days around a single
/// instant and to an hour for a burst within minutes, so ticks have room.
fn time_domain(min: i64, max: i64) -> (i64, i64) {
    let span = max.saturating_sub(min);
    if span == 0 {
        (min.saturating_sub(DAY), max.saturating_add(DAY))
    } else if span < HOUR {
        let middle = min + span / 2;
        (middle - HOUR / 2, middle + HOUR / 2)
    } else {
        (min, max)
    }
}

fn time_fraction(time: i64, min: i64, max: i64) -> f64 {
    let fraction = time.saturating_sub(min) as f64 / max.saturating_sub(min) as f64;
    if fraction.is_finite() { fraction } else { 0.0 }
}

/// At most two points per pixel column: each column's lowest and highest, in time order.
/// Beyond that more points draw nothing new, while the SVG would grow without bound; keeping
/// the extremes preserves the shape and its spikes, and every kept point is a real one.
fn thin(points: &[(i64, f64)], min: i64, max: i64, columns: usize) -> Vec<(i64, f64)> {
    let columns = columns.max(1);
    if points.len() <= columns.saturating_mul(2) {
        return points.to_vec();
    }
    let column_of =
        |time: i64| ((time_fraction(time, min, max) * columns as f64) as usize).min(columns - 1);
    let mut kept = Vec::with_capacity(columns * 2);
    let mut start = 0;
    while let Some(&(first_time, first_value)) = points.get(start) {
        let column = column_of(first_time);
        let (mut lowest, mut highest) = ((start, first_value), (start, first_value));
        let mut end = start;
        while let Some(&(time, value)) = points.get(end) {
            if column_of(time) != column {
                break;
            }
            if value < lowest.1 {
                lowest = (end, value);
            }
            if value > highest.1 {
                highest = (end, value);
            }
            end += 1;
        }
        let (earlier, later) = (lowest.0.min(highest.0), lowest.0.max(highest.0));
        kept.extend(points.get(earlier).copied());
        if later != earlier {
            kept.extend(points.get(later).copied());
        }
        start = end;
    }
    kept
}

fn civil(micros: i64) -> Option<DateTime> {
    Timestamp::from_microsecond(micros)
        .ok()
        .map(|timestamp| TimeZone::UTC.to_datetime(timestamp))
}

fn date_micros(date: Date) -> Option<i64> {
    TimeZone::UTC
        .to_timestamp(date.to_datetime(Time::midnight()))
        .ok()
        .map(Timestamp::as_microsecond)
}

fn month_name(date: Date) -> &'static str {
    usize::try_from(date.month() - 1)
        .ok()
        .and_then(|index| MONTHS.get(index))
        .copied()
        .unwrap_or("?")
}

/// Whether any point has a time of day other than midnight UTC. Daily scores are stamped at
/// midnight, and "on 2025-03-03 00:00" would only add noise; data taken at other times keeps
/// its time in tooltips.
fn carries_time_of_day(series: &[PreparedSeries]) -> bool {
    series
        .iter()
        .flat_map(|series| &series.points)
        .any(|&(time, _)| time.rem_euclid(DAY) != 0)
}

/// YYYY-MM-DD, with HH:MM when `with_time`.
fn date_label(micros: i64, with_time: bool) -> String {
    match civil(micros) {
        Some(moment) if with_time => {
            format!(
                "{} {:02}:{:02}",
                moment.date(),
                moment.hour(),
                moment.minute()
            )
        }
        Some(moment) => moment.date().to_string(),
        None => "?".to_owned(),
    }
}

/// A value for a tooltip, more precise than [`compact_number`]: up to two decimals
/// (`1234567.891` → `1234567.89`), three significant digits below 1.
fn plain_number(value: f64) -> String {
    let magnitude = value.abs();
    if (1.0..1e15).contains(&magnitude) {
        trim_number(format!("{value:.2}"))
    } else {
        compact_number(value)
    }
}

fn round_significant(value: f64, digits: i32) -> f64 {
    let factor = 10f64.powi(digits - 1 - value.log10().floor() as i32);
    let rounded = (value * factor).round() / factor;
    if rounded.is_finite() { rounded } else { value }
}

/// Drops trailing zeros after a decimal point ("2.50" → "2.5", "3.0" → "3"), and the sign
/// of a zero.
fn trim_number(text: String) -> String {
    let trimmed = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text.as_str()
    };
    if trimmed == "-0" {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// A coordinate with at most one decimal, finite and within [`COORD_LIMIT`].
fn coord(value: f64) -> String {
    if !value.is_finite() {
        return "0".to_owned();
    }
    let rounded = (value.clamp(-COORD_LIMIT, COORD_LIMIT) * 10.0).round() / 10.0;
    trim_number(format!("{rounded:.1}"))
}

fn canvas_size(width: u32, height: u32) -> (f64, f64) {
    (
        f64::from(width.clamp(MIN_WIDTH, MAX_WIDTH)),
        f64::from(height.clamp(MIN_HEIGHT, MAX_HEIGHT)),
    )
}

fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * FONT_SIZE * GLYPH_WIDTH
}

/// `text` cut to fit `max_width` with an ellipsis, and whether it was cut.
fn truncate_to_width(text: &str, max_width: f64) -> (String, bool) {
    if text_width(text) <= max_width {
        return (text.to_owned(), false);
    }
    let fits = (max_width / (FONT_SIZE * GLYPH_WIDTH)).floor() as usize;
    if fits == 0 {
        return (String::new(), true);
    }
    let mut cut: String = text.chars().take(fits - 1).collect();
    cut.push('…');
    (cut, true)
}

/// A name for legends and tooltips; an empty one would leave a swatch with no label.
fn display_name(name: &str, index: usize) -> String {
    if name.trim().is_empty() {
        format!("Series {}", index + 1)
    } else {
        name.to_owned()
    }
}

fn series_style(index: usize) -> (&'static str, &'static str) {
    (
        PALETTE[index % PALETTE.len()],
        DASHES[(index / PALETTE.len()) % DASHES.len()],
    )
}

/// Up to ten names for a description, then how many more.
fn list_some(names: &[String]) -> String {
    let mut shown: Vec<String> = names.iter().take(10).cloned().collect();
    if names.len() > 10 {
        shown.push(format!("and {} more", names.len() - 10));
    }
    shown.join(", ")
}

/// Sums of the negative and of the positive values, kept finite.
fn stack_sums(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((0.0, 0.0), |(negative, positive), value| {
        if value >= 0.0 {
            (negative, clamp_sum(positive + value))
        } else {
            (clamp_sum(negative + value), positive)
        }
    })
}

/// A stack of values near `f64::MAX` overflows to infinity; it is drawn as reaching the
/// largest float instead.
fn clamp_sum(sum: f64) -> f64 {
    sum.clamp(f64::MIN, f64::MAX)
}

/// Writes SVG markup. Every attribute value and text passes through [`escape`], so no
/// caller can forget it; attributes with an empty value are left out.
#[derive(Default)]
struct Svg {
    markup: String,
}

impl Svg {
    fn start_tag(&mut self, tag: &str, attributes: &[(&str, &str)]) {
        self.markup.push('<');
        self.markup.push_str(tag);
        for (name, value) in attributes {
            if value.is_empty() {
                continue;
            }
            self.markup.push(' ');
            self.markup.push_str(name);
            self.markup.push_str("=\"");
            self.markup.push_str(&escape(value));
            self.markup.push('"');
        }
    }

    fn open(&mut self, tag: &str, attributes: &[(&str, &str)]) {
        self.start_tag(tag, attributes);
        self.markup.push('>');
    }

    fn empty(&mut self, tag: &str, attributes: &[(&str, &str)]) {
        self.start_tag(tag, attributes);
        self.markup.push_str("/>\n");
    }

    fn text(&mut self, text: &str) {
        self.markup.push_str(&escape(text));
    }

    fn element(&mut self, tag: &str, attributes: &[(&str, &str)], text: &str) {
        self.open(tag, attributes);
        self.text(text);
        self.close(tag);
    }

    fn close(&mut self, tag: &str) {
        self.markup.push_str("</");
        self.markup.push_str(tag);
        self.markup.push_str(">\n");
    }

    fn finish(mut self) -> String {
        self.close("svg");
        self.markup
    }
}

/// Opens the document: the root `<svg>` with its accessible name, `<title>` and `<desc>`,
/// and the visible title.
fn begin(svg: &mut Svg, width: f64, height: f64, title: &str, description: &str) {
    let name = if title.trim().is_empty() {
        "Chart"
    } else {
        title
    };
    svg.open(
        "svg",
        &[
            ("xmlns", "http://www.w3.org/2000/svg"),
            ("width", &coord(width)),
            ("height", &coord(height)),
            (
                "viewBox",
                &format!("0 0 {} {}", coord(width), coord(height)),
            ),
            ("role", "img"),
            ("aria-label", name),
            ("font-family", FONT_FAMILY),
            ("font-size", &coord(FONT_SIZE)),
        ],
    );
    svg.element("title", &[], name);
    svg.element("desc", &[], description);
    svg.element(
        "text",
        &[
            ("class", "chart-title"),
            ("x", &coord(MARGIN)),
            ("y", "20"),
            ("font-size", &coord(TITLE_FONT_SIZE)),
            ("font-weight", "bold"),
            ("fill", TEXT_COLOR),
        ],
        title,
    );
}

fn no_data(svg: &mut Svg, width: f64, top: f64, height: f64) {
    svg.element(
        "text",
        &[
            ("class", "no-data"),
            ("x", &coord(width / 2.0)),
            ("y", &coord((top + height) / 2.0)),
            ("text-anchor", "middle"),
            ("fill", MUTED_COLOR),
        ],
        "No data",
    );
}

fn grid_line(svg: &mut Svg, x1: f64, y1: f64, x2: f64, y2: f64) {
    svg.empty(
        "line",
        &[
            ("x1", &coord(x1)),
            ("y1", &coord(y1)),
            ("x2", &coord(x2)),
            ("y2", &coord(y2)),
            ("stroke", GRID_COLOR),
        ],
    );
}

/// Horizontal grid lines with the value labels on the left, in `<g class="y-axis">`.
fn draw_value_grid_vertical(svg: &mut Svg, plot: &Plot, axis: &Axis) {
    svg.open("g", &[("class", "y-axis")]);
    for (value, label) in &axis.ticks {
        let y = plot.top + plot.height * (1.0 - axis.fraction(*value));
        grid_line(svg, plot.left, y, plot.right(), y);
        svg.element(
            "text",
            &[
                ("x", &coord(plot.left - 6.0)),
                ("y", &coord(y + 4.0)),
                ("text-anchor", "end"),
                ("fill", MUTED_COLOR),
            ],
            label,
        );
    }
    svg.close("g");
}

fn draw_axis_lines(svg: &mut Svg, plot: &Plot) {
    let points = format!(
        "{},{} {},{} {},{}",
        coord(plot.left),
        coord(plot.top),
        coord(plot.left),
        coord(plot.bottom()),
        coord(plot.right()),
        coord(plot.bottom())
    );
    svg.empty(
        "polyline",
        &[
            ("class", "axes"),
            ("points", &points),
            ("fill", "none"),
            ("stroke", AXIS_COLOR),
        ],
    );
}

/// A category name, cut to `max_width`; a cut name keeps the full one as a tooltip.
fn category_label(svg: &mut Svg, category: &str, max_width: f64, attributes: &[(&str, &str)]) {
    let (shown, cut) = truncate_to_width(category, max_width);
    let mut attributes = attributes.to_vec();
    attributes.push(("fill", MUTED_COLOR));
    svg.open("text", &attributes);
    svg.text(&shown);
    if cut {
        svg.element("title", &[], category);
    }
    svg.close("text");
}

fn bar(
    svg: &mut Svg,
    rect: &Rect,
    series_index: usize,
    series_name: &str,
    category: &str,
    value: f64,
) {
    svg.open(
        "rect",
        &[
            ("x", &coord(rect.x)),
            ("y", &coord(rect.y)),
            ("width", &coord(rect.width)),
            ("height", &coord(rect.height)),
            ("fill", series_style(series_index).0),
        ],
    );
    let tooltip = format!(
        "{}, {}: {}",
        display_name(series_name, series_index),
        category,
        plain_number(value)
    );
    svg.element("title", &[], &tooltip);
    svg.close("rect");
}

/// Value labels: inside a segment in its contrasting colour; outside the bars dark with a
/// white halo, so a grid line crossing the text does not hurt it.
fn draw_value_labels(svg: &mut Svg, labels: &[ValueLabel]) {
    svg.open("g", &[("class", "value-labels")]);
    for label in labels {
        let (fill, halo) = match label.inside {
            Some(fill) => (fill, ""),
            None => (TEXT_COLOR, "#ffffff"),
        };
        svg.element(
            "text",
            &[
                ("class", label.class),
                ("x", &coord(label.x)),
                ("y", &coord(label.y)),
                ("text-anchor", label.anchor),
                ("fill", fill),
                ("stroke", halo),
                ("stroke-width", if halo.is_empty() { "" } else { "3" }),
                ("paint-order", if halo.is_empty() { "" } else { "stroke" }),
            ],
            &label.text,
        );
    }
    svg.close("g");
}

enum Swatch {
    Line {
        color: &'static str,
        dash: &'static str,
    },
    Block {
        color: &'static str,
    },
}

struct LegendEntry {
    label: String,
    swatch: Swatch,
}

struct PlacedLegendEntry {
    index: usize,
    x: f64,
    y: f64,
    end: f64,
    shown: String,
}

struct LegendLayout {
    placed: Vec<PlacedLegendEntry>,
    /// Where "+N more" goes and N, when not every entry fits in [`MAX_LEGEND_ROWS`].
    more: Option<(f64, f64, usize)>,
    height: f64,
}

/// Lays the legend out in rows under the title, wrapping at `max_width`. Past
/// [`MAX_LEGEND_ROWS`] rows the rest is summed up as "+N more", so a chart of a hundred series
/// still has a plot.
fn layout_legend(entries: &[LegendEntry], left: f64, top: f64, max_width: f64) -> LegendLayout {
    let right = left + max_width;
    let max_text = (max_width - SWATCH - SWATCH_GAP).max(FONT_SIZE);
    let mut placed: Vec<PlacedLegendEntry> = Vec::new();
    let (mut x, mut row) = (left, 0usize);
    for (index, entry) in entries.iter().enumerate() {
        let (shown, _) = truncate_to_width(&entry.label, max_text);
        let width = SWATCH + SWATCH_GAP + text_width(&shown);
        if x > left && x + width > right {
            row += 1;
            x = left;
        }
        if row >= MAX_LEGEND_ROWS {
            break;
        }
        placed.push(PlacedLegendEntry {
            index,
            x,
            y: top + LEGEND_ROW * row as f64,
            end: x + width,
            shown,
        });
        x += width + LEGEND_ITEM_GAP;
    }
    let mut more = None;
    if placed.len() < entries.len() {
        loop {
            let hidden = entries.len() - placed.len();
            let more_width = text_width(&format!("+{hidden} more"));
            let (x, y) = placed
                .last()
                .map(|last| (last.end + LEGEND_ITEM_GAP, last.y))
                .unwrap_or((left, top));
            if x + more_width <= right || placed.len() <= 1 {
                more = Some((x, y, hidden));
                break;
            }
            placed.pop();
        }
    }
    let rows = placed
        .last()
        .map(|last| ((last.y - top) / LEGEND_ROW) as usize + 1)
        .unwrap_or(usize::from(more.is_some()));
    LegendLayout {
        placed,
        more,
        height: LEGEND_ROW * rows as f64,
    }
}

fn draw_legend(svg: &mut Svg, entries: &[LegendEntry], layout: &LegendLayout) {
    if layout.placed.is_empty() && layout.more.is_none() {
        return;
    }
    svg.open("g", &[("class", "legend")]);
    for placed in &layout.placed {
        let Some(entry) = entries.get(placed.index) else {
            continue;
        };
        svg.open("g", &[("class", "legend-item")]);
        match entry.swatch {
            Swatch::Line { color, dash } => svg.empty(
                "line",
                &[
                    ("x1", &coord(placed.x)),
                    ("y1", &coord(placed.y - 4.0)),
                    ("x2", &coord(placed.x + SWATCH)),
                    ("y2", &coord(placed.y - 4.0)),
                    ("stroke", color),
                    ("stroke-width", "2"),
                    ("stroke-dasharray", dash),
                ],
            ),
            Swatch::Block { color } => svg.empty(
                "rect",
                &[
                    ("x", &coord(placed.x)),
                    ("y", &coord(placed.y - 10.0)),
                    ("width", &coord(SWATCH - 2.0)),
                    ("height", &coord(SWATCH - 2.0)),
                    ("fill", color),
                ],
            ),
        }
        svg.element(
            "text",
            &[
                ("x", &coord(placed.x + SWATCH + SWATCH_GAP)),
                ("y", &coord(placed.y)),
                ("fill", TEXT_COLOR),
            ],
            &placed.shown,
        );
        svg.close("g");
    }
    if let Some((x, y, hidden)) = layout.more {
        svg.element(
            "text",
            &[
                ("class", "legend-more"),
                ("x", &coord(x)),
                ("y", &coord(y)),
                ("fill", MUTED_COLOR),
            ],
            &format!("+{hidden} more"),
        );
    }
    svg.close("g");
}

#[cfg(test)]
mod tests {
    use super::*;
    use roxmltree::{Document, Node};

    fn parse(svg: &str) -> Document<'_> {
        Document::parse(svg).unwrap_or_else(|error| panic!("not well-formed XML ({error}):\n{svg}"))
    }

    fn micros(date: &str) -> i64 {
        let date: Date = date.parse().expect("test date");
        date_micros(date).expect("date in range")
    }

    fn micros_at(date: &str, hour: i64) -> i64 {
        micros(date) + hour * HOUR
    }

    fn elements<'a, 'input>(root: Node<'a, 'input>, tag: &str) -> Vec<Node<'a, 'input>> {
        root.descendants()
            .filter(|node| node.has_tag_name(tag))
            .collect()
    }

    fn group<'a, 'input>(document: &'a Document<'input>, class: &str) -> Option<Node<'a, 'input>> {
        document
            .descendants()
            .find(|node| node.has_tag_name("g") && node.attribute("class") == Some(class))
    }

    /// The direct text of each `<text>` under the group of `class` (a cut label's full name
    /// sits in its `<title>` and is not included).
    fn texts_in(document: &Document, class: &str) -> Vec<String> {
        group(document, class)
            .map(|group| {
                elements(group, "text")
                    .iter()
                    .map(|node| node.text().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn count_in(document: &Document, class: &str, tag: &str) -> usize {
        group(document, class)
            .map(|group| elements(group, tag).len())
            .unwrap_or(0)
    }

    fn legend_items(document: &Document) -> usize {
        document
            .descendants()
            .filter(|node| node.attribute("class") == Some("legend-item"))
            .count()
    }

    fn number(node: Node, attribute: &str) -> f64 {
        node.attribute(attribute)
            .unwrap_or_else(|| panic!("missing {attribute}"))
            .parse()
            .unwrap_or_else(|_| panic!("{attribute} is not a number"))
    }

    fn tooltip(node: Node) -> String {
        elements(node, "title")
            .first()
            .and_then(|title| title.text())
            .unwrap_or("")
            .to_owned()
    }

    /// Every coordinate-like attribute is a finite number with at most one decimal.
    fn assert_tidy_coordinates(document: &Document) {
        const ATTRIBUTES: [&str; 11] = [
            "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "width", "height",
        ];
        for node in document.descendants().filter(Node::is_element) {
            let mut values: Vec<&str> = ATTRIBUTES
                .iter()
                .filter_map(|name| node.attribute(*name))
                .collect();
            if let Some(points) = node.attribute("points") {
                values.extend(points.split([' ', ',']).filter(|value| !value.is_empty()));
            }
            for value in values {
                let parsed: f64 = value
                    .parse()
                    .unwrap_or_else(|_| panic!("{value:?} is not a number"));
                assert!(parsed.is_finite(), "{value} is not finite");
                let decimals = value
                    .split_once('.')
                    .map(|(_, fraction)| fraction.len())
                    .unwrap_or(0);
                assert!(decimals <= 1, "{value} has more than one decimal");
            }
        }
    }

    fn score_chart() -> LineChart {
        LineChart {
            title: "Acme Corp score".to_owned(),
            y_label: Some("Score".to_owned()),
            y_range: None,
            series: vec![
                Series {
                    name: "Score".to_owned(),
                    points: vec![
                        (micros("2025-03-05"), 50.0),
                        (micros("2025-03-03"), 42.0),
                        (micros("2025-03-04"), 47.5),
                        (micros("2025-03-06"), 61.0),
                        (micros("2025-03-07"), 58.0),
                    ],
                },
                Series {
                    name: "Fit".to_owned(),
                    points: vec![
                        (micros("2025-03-03"), 30.0),
                        (micros("2025-03-05"), 30.0),
                        (micros("2025-03-07"), 35.0),
                    ],
                },
            ],
        }
    }

    fn tier_chart(stacked: bool, horizontal: bool) -> BarChart {
        BarChart {
            title: "Pipeline by tier".to_owned(),
            categories: vec!["TAL".to_owned(), "non-TAL".to_owned()],
            series: vec![
                BarSeries {
                    name: "Open".to_owned(),
                    values: vec![120_000.0, 45_000.0],
                },
                BarSeries {
                    name: "Won".to_owned(),
                    values: vec![30_000.0, 5_000.0],
                },
            ],
            stacked,
            horizontal,
        }
    }

    #[test]
    fn escape_replaces_every_markup_character() {
        let cases = [
            ("plain", "plain"),
            ("a & b", "a &amp; b"),
            ("<b>", "&lt;b&gt;"),
            ("say \"hi\"", "say &quot;hi&quot;"),
            ("O'Brien", "O&apos;Brien"),
            (
                "<script>alert(1)</script>",
                "&lt;script&gt;alert(1)&lt;/script&gt;",
            ),
            ("tab\tnew\nline", "tab\tnew\nline"),
            ("nul\u{0}bell\u{7}", "nul\u{FFFD}bell\u{FFFD}"),
            ("\u{FFFE}", "\u{FFFD}"),
            ("Zürich 東京 😀", "Zürich 東京 😀"),
        ];
        for (input, expected) in cases {
            assert_eq!(escape(input), expected, "escape({input:?})");
        }
    }

    #[test]
    fn script_in_any_label_comes_out_as_text() {
        let attack = "<script>alert(1)</script>";
        let line = LineChart {
            title: attack.to_owned(),
            y_label: Some(attack.to_owned()),
            y_range: None,
            series: vec![Series {
                name: attack.to_owned(),
                points: vec![(micros("2025-03-03"), 1.0), (micros("2025-03-04"), 2.0)],
            }],
        };
        let bars = BarChart {
            title: attack.to_owned(),
            categories: vec![attack.to_owned()],
            series: vec![BarSeries {
                name: attack.to_owned(),
                values: vec![1.0],
            }],
            stacked: false,
            horizontal: false,
        };
        for svg in [line.svg(600, 300), bars.svg(600, 300), bars.svg(200, 120)] {
            assert!(!svg.contains("<script"), "raw script tag in {svg}");
            assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
            let document = parse(&svg);
            assert!(elements(document.root(), "script").is_empty());
            let root = document.root_element();
            assert_eq!(root.attribute("aria-label"), Some(attack));
            assert_eq!(
                elements(root, "title")
                    .first()
                    .and_then(|title| title.text()),
                Some(attack)
            );
        }
    }

    #[test]
    fn control_characters_in_names_keep_the_document_well_formed() {
        let chart = LineChart {
            title: "bad\u{1}byte".to_owned(),
            series: vec![Series {
                name: "x\u{0}y".to_owned(),
                points: vec![(micros("2025-03-03"), 1.0)],
            }],
            ..LineChart::default()
        };
        let svg = chart.svg(400, 200);
        let document = parse(&svg);
        assert_eq!(texts_in(&document, "legend"), ["x\u{FFFD}y"]);
    }

    #[test]
    fn compact_numbers() {
        let cases = [
            (0.0, "0"),
            (-0.0, "0"),
            (0.25, "0.25"),
            (1.0, "1"),
            (12.345, "12.3"),
            (100.0, "100"),
            (999.4, "999"),
            (999.96, "1k"),
            (1234.0, "1.2k"),
            (-1500.0, "-1.5k"),
            (12_345.0, "12.3k"),
            (123_456.0, "123k"),
            (999_960.0, "1M"),
            (3_400_000.0, "3.4M"),
            (2e9, "2B"),
            (7.5e12, "7.5T"),
            (0.001234, "0.00123"),
            (2e20, "2.0e20"),
            (1e-9, "1.0e-9"),
            (f64::NAN, "n/a"),
            (f64::INFINITY, "n/a"),
        ];
        for (value, expected) in cases {
            assert_eq!(compact_number(value), expected, "compact_number({value})");
        }
    }

    #[test]
    fn coordinates_and_tooltip_numbers() {
        let coordinates = [
            (3.0, "3"),
            (12.34, "12.3"),
            (12.35, "12.4"),
            (-0.04, "0"),
            (-7.25, "-7.3"),
            (f64::NAN, "0"),
            (1e300, "1000000"),
        ];
        for (value, expected) in coordinates {
            assert_eq!(coord(value), expected, "coord({value})");
        }
        let plain = [
            (42.0, "42"),
            (47.5, "47.5"),
            (1_234_567.891, "1234567.89"),
            (0.125, "0.125"),
            (-3.0, "-3"),
        ];
        for (value, expected) in plain {
            assert_eq!(plain_number(value), expected, "plain_number({value})");
        }
    }

    #[test]
    fn nice_axes_for_typical_ranges() {
        #[track_caller]
        fn check(low: f64, high: f64, extend: bool, labels: &[&str], domain: (f64, f64)) {
            let axis = nice_axis(low, high, extend);
            let shown: Vec<&str> = axis.ticks.iter().map(|(_, label)| label.as_str()).collect();
            assert_eq!(shown, labels, "nice_axis({low}, {high}, {extend})");
            assert_eq!(
                (axis.min, axis.max),
                domain,
                "domain of nice_axis({low}, {high}, {extend})"
            );
        }
        check(
            0.0,
            87.0,
            true,
            &["0", "20", "40", "60", "80", "100"],
            (0.0, 100.0),
        );
        check(
            0.0,
            10.0,
            true,
            &["0", "2", "4", "6", "8", "10"],
            (0.0, 10.0),
        );
        check(
            0.0,
            1.0,
            true,
            &["0", "0.2", "0.4", "0.6", "0.8", "1"],
            (0.0, 1.0),
        );
        check(
            0.0,
            100.0,
            false,
            &["0", "20", "40", "60", "80", "100"],
            (0.0, 100.0),
        );
        // A flat line at 50 is widened to 45..55; the ticks stay inside it.
        check(
            45.0,
            55.0,
            true,
            &["46", "48", "50", "52", "54"],
            (45.0, 55.0),
        );
        check(
            10_000.0,
            11_000.0,
            true,
            &["10k", "10.2k", "10.4k", "10.6k", "10.8k", "11k"],
            (10_000.0, 11_000.0),
        );
        check(
            0.0,
            3_400_000.0,
            true,
            &["0", "1M", "2M", "3M", "4M"],
            (0.0, 4_000_000.0),
        );
        // Extending to -40..80 would take 7 ticks, -50..100 would waste half the plot.
        check(
            -30.0,
            70.0,
            true,
            &["-20", "0", "20", "40", "60"],
            (-30.0, 70.0),
        );
        check(
            -1_000.0,
            -987.0,
            false,
            &["-1000", "-995", "-990"],
            (-1_000.0, -987.0),
        );
        check(
            0.0,
            120_000.0,
            true,
            &["0", "50k", "100k", "150k"],
            (0.0, 150_000.0),
        );
    }

    #[test]
    fn nice_axes_have_four_to_six_distinct_ticks_at_round_steps() {
        let starts = [-1_000.0, -3.7, 0.0, 0.001, 2.0, 45.0, 1e6, -2.5e9];
        let spans = [
            1e-3, 0.07, 0.7, 1.0, 3.3, 7.0, 10.0, 13.0, 51.0, 87.0, 101.0, 999.0, 12_345.0, 1e9,
        ];
        for start in starts {
            for span in spans {
                for extend in [true, false] {
                    let (low, high) = (start, start + span);
                    let axis = nice_axis(low, high, extend);
                    let context = format!("nice_axis({low}, {high}, {extend}) = {:?}", axis.ticks);
                    // A fixed domain cannot always be cut into 4–6 round steps (-1000..-987
                    // gets -1000, -995, -990); a fitted one can.
                    let wanted = if extend { 4..=6 } else { 3..=7 };
                    assert!(wanted.contains(&axis.ticks.len()), "{context}");
                    assert!(axis.min <= low && axis.max >= high, "{context}");
                    let values: Vec<f64> = axis.ticks.iter().map(|(value, _)| *value).collect();
                    let step = values[1] - values[0];
                    // Within rounding: a tick may be the decimal 3.699 for a bound of
                    // 3.6990000000000003.
                    let slack = step * 1e-9;
                    assert!(
                        values
                            .iter()
                            .all(|value| *value >= axis.min - slack && *value <= axis.max + slack),
                        "{context}"
                    );
                    let mantissa = step / 10f64.powf(step.log10().floor());
                    assert!(
                        [1.0, 2.0, 5.0, 10.0]
                            .iter()
                            .any(|nice| (mantissa - nice).abs() < 1e-2),
                        "step {step}: {context}"
                    );
                    let mut labels: Vec<&String> =
                        axis.ticks.iter().map(|(_, label)| label).collect();
                    labels.dedup();
                    assert_eq!(
                        labels.len(),
                        axis.ticks.len(),
                        "duplicate labels: {context}"
                    );
                }
            }
        }
    }

    #[test]
    fn fine_steps_far_from_zero_keep_distinct_labels() {
        let axis = nice_axis(1.0, 1.000_000_5, true);
        let labels: Vec<&str> = axis.ticks.iter().map(|(_, label)| label.as_str()).collect();
        assert_eq!(labels, ["1", "1.0000002", "1.0000004", "1.0000006"]);
    }

    #[test]
    fn nice_axis_survives_degenerate_domains() {
        for (low, high) in [
            (0.0, 0.0),
            (5.0, 5.0),
            (-5.0, -5.0),
            (9.0, 1.0),
            (-f64::MAX, f64::MAX),
            (f64::MAX, f64::MAX),
            (1e15, 1e15 + 0.5),
            (f64::MIN_POSITIVE, 2.0 * f64::MIN_POSITIVE),
        ] {
            let axis = nice_axis(low, high, true);
            assert!(axis.min < axis.max, "({low}, {high}) gave {axis:?}");
            assert!(axis.ticks.len() >= 2, "({low}, {high}) gave {axis:?}");
            assert!(axis.fraction(low).is_finite() && axis.fraction(high).is_finite());
        }
        assert_eq!(nice_axis(0.0, 0.0, true).min, 0.0);
    }

    #[test]
    fn time_ticks_pick_a_unit_for_the_span() {
        let labels = |min: i64, max: i64, max_ticks: usize| {
            time_ticks(min, max, max_ticks)
                .into_iter()
                .map(|(_, label)| label)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            labels(micros("2025-03-01"), micros("2025-03-08"), 10),
            [
                "Mar 1", "Mar 2", "Mar 3", "Mar 4", "Mar 5", "Mar 6", "Mar 7", "Mar 8"
            ]
        );
        assert_eq!(
            labels(micros("2024-12-29"), micros("2025-01-02"), 6),
            [
                "2024-12-29",
                "2024-12-30",
                "2024-12-31",
                "2025-01-01",
                "2025-01-02"
            ]
        );
        assert_eq!(
            labels(micros_at("2025-03-03", 0), micros_at("2025-03-03", 12), 8),
            [
                "Mar 3", "02:00", "04:00", "06:00", "08:00", "10:00", "12:00"
            ]
        );
        assert_eq!(
            labels(micros("2024-01-15"), micros("2025-01-10"), 8),
            [
                "Mar 2024", "May 2024", "Jul 2024", "Sep 2024", "Nov 2024", "Jan 2025"
            ]
        );
        assert_eq!(
            labels(micros("2015-06-01"), micros("2025-06-01"), 7),
            ["2016", "2018", "2020", "2022", "2024"]
        );
        let weekly = time_ticks(micros("2025-01-01"), micros("2025-03-26"), 8);
        assert!((4..=8).contains(&weekly.len()), "{weekly:?}");
        for (tick, label) in &weekly {
            let date = civil(*tick).expect("in range").date();
            assert_eq!(date.weekday(), jiff::civil::Weekday::Monday, "{label}");
            assert_eq!(label, &format!("{} {}", month_name(date), date.day()));
        }
    }

    #[test]
    fn time_ticks_never_exceed_their_bound() {
        let spans = [
            MINUTE,
            HOUR,
            5 * HOUR,
            DAY,
            9 * DAY,
            40 * DAY,
            400 * DAY,
            4000 * DAY,
            3_000_000 * DAY,
        ];
        for span in spans {
            for max_ticks in 2..=10 {
                let min = micros("1990-07-13") - span / 2;
                let ticks = time_ticks(min, min + span, max_ticks);
                assert!(
                    ticks.len() <= max_ticks,
                    "span {span}, max {max_ticks}: {ticks:?}"
                );
                assert!(
                    ticks
                        .iter()
                        .all(|(tick, _)| (min..=min + span).contains(tick))
                );
            }
        }
    }

    #[test]
    fn line_chart_structure() {
        let svg = score_chart().svg(640, 320);
        let document = parse(&svg);
        let root = document.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(root.attribute("role"), Some("img"));
        assert_eq!(root.attribute("aria-label"), Some("Acme Corp score"));
        assert_eq!(root.attribute("viewBox"), Some("0 0 640 320"));
        let first_children: Vec<&str> = root
            .children()
            .filter(Node::is_element)
            .take(2)
            .map(|node| node.tag_name().name())
            .collect();
        assert_eq!(first_children, ["title", "desc"]);
        let description = elements(root, "desc")
            .first()
            .and_then(|desc| desc.text())
            .unwrap_or("")
            .to_owned();
        assert!(
            description
                .contains("Score: 5 points from 2025-03-03 to 2025-03-07, lowest 42, highest 61"),
            "{description}"
        );

        assert_eq!(texts_in(&document, "legend"), ["Score", "Fit"]);
        assert_eq!(count_in(&document, "legend", "line"), 2);
        let series: Vec<Node> = root
            .descendants()
            .filter(|node| node.attribute("class") == Some("series"))
            .collect();
        assert_eq!(series.len(), 2);
        assert_eq!(elements(series[0], "circle").len(), 5);
        assert_eq!(elements(series[1], "circle").len(), 3);
        let fills: Vec<Option<&str>> = series
            .iter()
            .map(|group| elements(*group, "circle")[0].attribute("fill"))
            .collect();
        assert_eq!(fills, [Some(PALETTE[0]), Some(PALETTE[1])]);
        assert_eq!(
            elements(root, "polyline")
                .iter()
                .filter(|line| line.attribute("class").is_none())
                .count(),
            2
        );

        // Points are drawn in time order whatever order they came in.
        let tooltips: Vec<String> = elements(series[0], "circle")
            .into_iter()
            .map(tooltip)
            .collect();
        assert_eq!(
            tooltips,
            [
                "Score: 42 on 2025-03-03",
                "Score: 47.5 on 2025-03-04",
                "Score: 50 on 2025-03-05",
                "Score: 61 on 2025-03-06",
                "Score: 58 on 2025-03-07"
            ]
        );
        let xs: Vec<f64> = elements(series[0], "circle")
            .into_iter()
            .map(|circle| number(circle, "cx"))
            .collect();
        assert!(xs.windows(2).all(|pair| pair[0] < pair[1]), "{xs:?}");

        assert_eq!(
            texts_in(&document, "x-axis"),
            ["Mar 3", "Mar 4", "Mar 5", "Mar 6", "Mar 7"]
        );
        let y_labels = texts_in(&document, "y-axis");
        assert!((4..=6).contains(&y_labels.len()), "{y_labels:?}");
        assert_eq!(
            elements(root, "text")
                .iter()
                .filter(|text| text.attribute("class") == Some("y-label"))
                .count(),
            1
        );
        assert_tidy_coordinates(&document);
    }

    #[test]
    fn line_chart_without_data_says_so() {
        let no_series = LineChart {
            title: "Nothing yet".to_owned(),
            ..LineChart::default()
        };
        let empty_series = LineChart {
            series: vec![Series {
                name: "Score".to_owned(),
                points: Vec::new(),
            }],
            ..no_series.clone()
        };
        let only_invalid = LineChart {
            series: vec![Series {
                name: "Score".to_owned(),
                points: vec![
                    (micros("2025-03-03"), f64::NAN),
                    (i64::MAX, 1.0),
                    (i64::MIN, 2.0),
                ],
            }],
            ..no_series.clone()
        };
        for (chart, legend_entries) in [(no_series, 0), (empty_series, 1), (only_invalid, 1)] {
            let svg = chart.svg(500, 250);
            let document = parse(&svg);
            assert_eq!(elements(document.root(), "circle").len(), 0);
            let no_data: Vec<Node> = elements(document.root(), "text")
                .into_iter()
                .filter(|text| text.attribute("class") == Some("no-data"))
                .collect();
            assert_eq!(no_data.len(), 1);
            assert_eq!(no_data[0].text(), Some("No data"));
            assert_eq!(count_in(&document, "legend", "text"), legend_entries);
            assert_tidy_coordinates(&document);
        }
    }

    #[test]
    fn line_chart_with_one_point() {
        let chart = LineChart {
            title: "New account".to_owned(),
            series: vec![Series {
                name: "Score".to_owned(),
                points: vec![(micros("2025-03-03"), 12.0)],
            }],
            ..LineChart::default()
        };
        let svg = chart.svg(400, 200);
        let document = parse(&svg);
        let circles = elements(document.root(), "circle");
        assert_eq!(circles.len(), 1);
        assert_eq!(tooltip(circles[0]), "Score: 12 on 2025-03-03");
        assert!(count_in(&document, "series", "polyline") == 0);
        assert_eq!(texts_in(&document, "x-axis"), ["Mar 2", "Mar 3", "Mar 4"]);
        assert!(texts_in(&document, "y-axis").len() >= 4);
        assert_tidy_coordinates(&document);
    }

    #[test]
    fn flat_line_sits_mid_plot_with_distinct_ticks() {
        let chart = LineChart {
            title: "Flat".to_owned(),
            series: vec![Series {
                name: "Score".to_owned(),
                points: (0..10)
                    .map(|day| (micros("2025-03-01") + day * DAY, 50.0))
                    .collect(),
            }],
            ..LineChart::default()
        };
        let svg = chart.svg(600, 300);
        let document = parse(&svg);
        let labels = texts_in(&document, "y-axis");
        assert!((4..=6).contains(&labels.len()), "{labels:?}");
        let mut unique = labels.clone();
        unique.dedup();
        assert_eq!(unique, labels);
        let plot = elements(document.root(), "svg")
            .into_iter()
            .find(|node| node.attribute("class") == Some("plot"))
            .expect("plot");
        let middle = number(plot, "height") / 2.0;
        for circle in elements(plot, "circle") {
            assert!((number(circle, "cy") - middle).abs() < 1.0);
        }
    }

    #[test]
    fn invalid_points_are_skipped() {
        let chart = LineChart {
            title: "Gaps".to_owned(),
            series: vec![Series {
                name: "Score".to_owned(),
                points: vec![
                    (micros("2025-03-01"), 1.0),
                    (micros("2025-03-02"), f64::NAN),
                    (micros("2025-03-03"), f64::INFINITY),
                    (micros("2025-03-04"), f64::NEG_INFINITY),
                    (i64::MAX, 3.0),
                    (micros("2025-03-05"), 4.0),
                ],
            }],
            ..LineChart::default()
        };
        let svg = chart.svg(600, 300);
        let document = parse(&svg);
        let tooltips: Vec<String> = elements(document.root(), "circle")
            .into_iter()
            .map(tooltip)
            .collect();
        assert_eq!(
            tooltips,
            ["Score: 1 on 2025-03-01", "Score: 4 on 2025-03-05"]
        );
        assert_tidy_coordinates(&document);
    }

    #[test]
    fn huge_series_are_thinned_but_keep_their_extremes() {
        let start = micros("2024-01-01");
        let count: i64 = 200_000;
        let points: Vec<(i64, f64)> = (0..count)
            .map(|index| {
                let value = if index == 123_456 {
                    1_000.0
                } else {
                    (index % 100) as f64 / 100.0
                };
                (start + index * MINUTE, value)
            })
            .collect();
        let chart = LineChart {
            title: "Dense".to_owned(),
            series: vec![Series {
                name: "Signal".to_owned(),
                points,
            }],
            ..LineChart::default()
        };
        let svg = chart.svg(800, 300);
        let document = parse(&svg);
        let circles = elements(document.root(), "circle");
        assert!(
            !circles.is_empty() && circles.len() <= 2 * 800,
            "{} circles",
            circles.len()
        );
        assert!(
            circles
                .iter()
                .any(|circle| tooltip(*circle).starts_with("Signal: 1000 on"))
        );
        assert_eq!(count_in(&document, "series", "polyline"), 1);
        assert!(svg.len() < 400_000, "{} bytes", svg.len());
        assert_tidy_coordinates(&document);
    }

    #[test]
    fn fixed_y_range_sets_the_axis_and_bad_ones_are_ignored() {
        let mut chart = score_chart();
        chart.y_range = Some((0.0, 100.0));
        chart.series[0].points.push((micros("2025-03-08"), 250.0));
        let svg = chart.svg(600, 300);
        let document = parse(&svg);
        assert_eq!(
            texts_in(&document, "y-axis"),
            ["0", "20", "40", "60", "80", "100"]
        );
        assert_eq!(elements(document.root(), "circle").len(), 9);
        assert_tidy_coordinates(&document);

        for bad in [
            (5.0, 1.0),
            (f64::NAN, 10.0),
            (0.0, f64::INFINITY),
            (3.0, 3.0),
        ] {
            let auto = LineChart {
                y_range: Some(bad),
                ..score_chart()
            };
            assert_eq!(auto.svg(600, 300), score_chart().svg(600, 300), "{bad:?}");
        }
    }

    #[test]
    fn extreme_values_and_sizes_stay_well_formed() {
        let values = [f64::MAX, -f64::MAX, 1e308, f64::MIN_POSITIVE, 0.0, -1e-300];
        let chart = LineChart {
            title: "Extremes".to_owned(),
            series: vec![Series {
                name: "x".to_owned(),
                points: values
                    .iter()
                    .enumerate()
                    .map(|(day, value)| (micros("2025-01-01") + day as i64 * DAY, *value))
                    .collect(),
            }],
            ..LineChart::default()
        };
        let earliest = Date::new(-9999, 1, 3)
            .ok()
            .and_then(date_micros)
            .expect("earliest date");
        let far_times = LineChart {
            title: "Ages".to_owned(),
            series: vec![Series {
                name: "x".to_owned(),
                points: vec![(earliest, 1.0), (micros("9999-12-30"), 2.0)],
            }],
            ..LineChart::default()
        };
        let bars = BarChart {
            title: "Extremes".to_owned(),
            categories: vec!["a".to_owned(), "b".to_owned()],
            series: vec![
                BarSeries {
                    name: "x".to_owned(),
                    values: vec![f64::MAX, -f64::MAX],
                },
                BarSeries {
                    name: "y".to_owned(),
                    values: vec![f64::MAX, 1.0],
                },
            ],
            stacked: true,
            horizontal: false,
        };
        for (width, height) in [(0, 0), (1, 1), (640, 320), (u32::MAX, u32::MAX)] {
            for svg in [
                chart.svg(width, height),
                far_times.svg(width, height),
                bars.svg(width, height),
            ] {
                let document = parse(&svg);
                assert_tidy_coordinates(&document);
                let root_width = number(document.root_element(), "width");
                assert!((200.0..=20_000.0).contains(&root_width));
            }
        }
        let svg = far_times.svg(600, 300);
        let document = parse(&svg);
        assert_eq!(elements(document.root(), "circle").len(), 2);
    }

    #[test]
    fn many_series_cycle_the_palette_and_summarise_the_legend() {
        let series = |count: usize| -> Vec<Series> {
            (0..count)
                .map(|index| Series {
                    name: format!("Account {index}"),
                    points: vec![
                        (micros("2025-03-01"), index as f64),
                        (micros("2025-03-09"), 1.0),
                    ],
                })
                .collect()
        };
        let chart = LineChart {
            title: "Ten".to_owned(),
            series: series(10),
            ..LineChart::default()
        };
        let svg = chart.svg(900, 400);
        let document = parse(&svg);
        let lines: Vec<Node> = elements(document.root(), "polyline")
            .into_iter()
            .filter(|line| line.attribute("class").is_none())
            .collect();
        assert_eq!(lines.len(), 10);
        let colours: Vec<&str> = lines
            .iter()
            .filter_map(|line| line.attribute("stroke"))
            .collect();
        assert_eq!(&colours[..8], PALETTE);
        assert_eq!(colours[8], PALETTE[0]);
        assert_eq!(lines[0].attribute("stroke-dasharray"), None);
        assert_eq!(lines[8].attribute("stroke-dasharray"), Some("6 3"));
        assert_eq!(legend_items(&document), 10);

        let crowded = LineChart {
            title: "Hundred".to_owned(),
            series: series(100),
            ..LineChart::default()
        };
        let svg = crowded.svg(600, 400);
        let document = parse(&svg);
        let shown = legend_items(&document);
        let more: Vec<String> = elements(document.root(), "text")
            .into_iter()
            .filter(|text| text.attribute("class") == Some("legend-more"))
            .map(|text| text.text().unwrap_or("").to_owned())
            .collect();
        assert!(shown > 0 && shown < 100);
        assert_eq!(more, [format!("+{} more", 100 - shown)]);
        assert_eq!(elements(document.root(), "circle").len(), 200);
    }

    #[test]
    fn unnamed_series_get_a_name() {
        let chart = LineChart {
            title: String::new(),
            series: vec![Series {
                name: "  ".to_owned(),
                points: vec![(micros("2025-03-03"), 1.0)],
            }],
            ..LineChart::default()
        };
        let svg = chart.svg(400, 200);
        let document = parse(&svg);
        assert_eq!(texts_in(&document, "legend"), ["Series 1"]);
        assert_eq!(
            document.root_element().attribute("aria-label"),
            Some("Chart")
        );
    }

    #[test]
    fn charts_are_deterministic() {
        assert_eq!(score_chart().svg(640, 320), score_chart().svg(640, 320));
        assert_eq!(
            tier_chart(true, true).svg(640, 320),
            tier_chart(true, true).svg(640, 320)
        );
    }

    fn bars_of(document: &Document) -> Vec<(f64, f64, f64, f64, String)> {
        group(document, "bars")
            .map(|bars| {
                elements(bars, "rect")
                    .into_iter()
                    .map(|rect| {
                        (
                            number(rect, "x"),
                            number(rect, "y"),
                            number(rect, "width"),
                            number(rect, "height"),
                            tooltip(rect),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn grouped_bar_chart_structure() {
        let svg = tier_chart(false, false).svg(600, 300);
        let document = parse(&svg);
        let root = document.root_element();
        assert_eq!(root.attribute("role"), Some("img"));
        assert_eq!(root.attribute("aria-label"), Some("Pipeline by tier"));
        let description = elements(root, "desc")
            .first()
            .and_then(|desc| desc.text())
            .unwrap_or("")
            .to_owned();
        assert_eq!(
            description,
            "Grouped bar chart of 2 categories (TAL, non-TAL) by 2 series (Open, Won)."
        );
        assert_eq!(texts_in(&document, "legend"), ["Open", "Won"]);
        assert_eq!(count_in(&document, "legend", "rect"), 2);
        assert_eq!(texts_in(&document, "x-axis"), ["TAL", "non-TAL"]);
        assert_eq!(texts_in(&document, "y-axis"), ["0", "50k", "100k", "150k"]);
        let bars = bars_of(&document);
        let tooltips: Vec<&str> = bars.iter().map(|bar| bar.4.as_str()).collect();
        assert_eq!(
            tooltips,
            [
                "Open, TAL: 120000",
                "Won, TAL: 30000",
                "Open, non-TAL: 45000",
                "Won, non-TAL: 5000"
            ]
        );
        assert!((bars[0].3 / bars[1].3 - 4.0).abs() < 0.01, "{bars:?}");
        assert!(
            (bars[0].3 / bars[2].3 - 120.0 / 45.0).abs() < 0.01,
            "{bars:?}"
        );
        // All bars stand on the same baseline.
        let baseline = bars[0].1 + bars[0].3;
        assert!(
            bars.iter()
                .all(|bar| (bar.1 + bar.3 - baseline).abs() <= 0.11),
            "{bars:?}"
        );
        assert_eq!(
            texts_in(&document, "value-labels"),
            ["120k", "30k", "45k", "5k"]
        );
        assert_tidy_coordinates(&document);
    }

    #[test]
    fn grouped_value_axis_starts_at_zero_and_ends_on_a_tick() {
        let svg = tier_chart(false, false).svg(600, 300);
        let document = parse(&svg);
        let labels = texts_in(&document, "y-axis");
        assert_eq!(labels.first().map(String::as_str), Some("0"));
        assert!((4..=6).contains(&labels.len()), "{labels:?}");
        let axis = nice_axis(0.0, 120_000.0, true);
        assert_eq!((axis.min, axis.max), (0.0, 150_000.0));
    }

    #[test]
    fn stacked_bar_chart_piles_segments_and_labels_totals() {
        let svg = tier_chart(true, false).svg(600, 400);
        let document = parse(&svg);
        let bars = bars_of(&document);
        assert_eq!(bars.len(), 4);
        // The second segment of a stack sits right on top of the first, same x and width.
        let (open, won) = (&bars[0], &bars[1]);
        assert_eq!((open.0, open.2), (won.0, won.2));
        assert!((won.1 + won.3 - open.1).abs() <= 0.11, "{bars:?}");
        let totals: Vec<String> = elements(document.root(), "text")
            .into_iter()
            .filter(|text| text.attribute("class") == Some("total"))
            .map(|text| text.text().unwrap_or("").to_owned())
            .collect();
        assert_eq!(totals, ["150k", "50k"]);
        // Inside a segment the label takes the colour that contrasts with it: white on blue,
        // black on orange.
        let inside: Vec<(String, Option<&str>)> = elements(document.root(), "text")
            .into_iter()
            .filter(|text| text.attribute("class") == Some("value"))
            .map(|text| (text.text().unwrap_or("").to_owned(), text.attribute("fill")))
            .collect();
        assert_eq!(
            inside,
            [
                ("120k".to_owned(), Some("#ffffff")),
                ("30k".to_owned(), Some("#000000")),
                ("45k".to_owned(), Some("#ffffff"))
            ]
        );
        assert_tidy_coordinates(&document);
    }

    #[test]
    fn horizontal_bars_put_categories_on_the_left() {
        for stacked in [false, true] {
            let svg = tier_chart(stacked, true).svg(600, 300);
            let document = parse(&svg);
            assert_eq!(texts_in(&document, "y-axis"), ["TAL", "non-TAL"]);
            let values = texts_in(&document, "x-axis");
            assert_eq!(values.first().map(String::as_str), Some("0"));
            assert!((4..=6).contains(&values.len()), "{values:?}");
            let bars = bars_of(&document);
            assert_eq!(bars.len(), 4);
            assert!((bars[0].2 / bars[1].2 - 4.0).abs() < 0.01, "{bars:?}");
            assert_tidy_coordinates(&document);
        }
        let description = tier_chart(true, true).describe();
        assert!(description.starts_with("Stacked horizontal bar chart of 2 categories"));
    }

    #[test]
    fn funnel_as_horizontal_bars_labels_each_stage() {
        let funnel = BarChart {
            title: "Funnel".to_owned(),
            categories: ["Target", "Engaged", "Meeting", "Opportunity", "Won"]
                .map(String::from)
                .to_vec(),
            series: vec![BarSeries {
                name: "Accounts".to_owned(),
                values: vec![500.0, 210.0, 64.0, 25.0, 7.0],
            }],
            stacked: false,
            horizontal: true,
        };
        let svg = funnel.svg(600, 300);
        let document = parse(&svg);
        assert_eq!(
            texts_in(&document, "y-axis"),
            ["Target", "Engaged", "Meeting", "Opportunity", "Won"]
        );
        assert_eq!(
            texts_in(&document, "value-labels"),
            ["500", "210", "64", "25", "7"]
        );
        let widths: Vec<f64> = bars_of(&document).iter().map(|bar| bar.2).collect();
        assert!(
            widths.windows(2).all(|pair| pair[0] > pair[1]),
            "{widths:?}"
        );
    }

    #[test]
    fn mismatched_lengths_pad_with_zero_and_ignore_extras() {
        let chart = BarChart {
            title: "Ragged".to_owned(),
            categories: vec!["a".to_owned(), "b".to_owned(), "c".to_owned()],
            series: vec![
                BarSeries {
                    name: "short".to_owned(),
                    values: vec![4.0],
                },
                BarSeries {
                    name: "long".to_owned(),
                    values: vec![1.0, 2.0, 3.0, 1_000.0, 9_999.0],
                },
            ],
            stacked: false,
            horizontal: false,
        };
        let svg = chart.svg(600, 300);
        let document = parse(&svg);
        let bars = bars_of(&document);
        let tooltips: Vec<&str> = bars.iter().map(|bar| bar.4.as_str()).collect();
        assert_eq!(
            tooltips,
            [
                "short, a: 4",
                "long, a: 1",
                "short, b: 0",
                "long, b: 2",
                "short, c: 0",
                "long, c: 3"
            ]
        );
        assert_eq!(bars[2].3, 0.0);
        // The ignored 9 999 does not stretch the axis.
        assert_eq!(
            texts_in(&document, "y-axis").last().map(String::as_str),
            Some("4")
        );
        assert_eq!(
            texts_in(&document, "value-labels"),
            ["4", "1", "0", "2", "0", "3"]
        );
    }

    #[test]
    fn non_finite_bar_values_are_skipped() {
        let chart = BarChart {
            title: "Holes".to_owned(),
            categories: vec!["a".to_owned(), "b".to_owned()],
            series: vec![
                BarSeries {
                    name: "s".to_owned(),
                    values: vec![f64::NAN, 2.0],
                },
                BarSeries {
                    name: "t".to_owned(),
                    values: vec![1.0, f64::INFINITY],
                },
            ],
            stacked: true,
            horizontal: false,
        };
        let svg = chart.svg(600, 300);
        let document = parse(&svg);
        let tooltips: Vec<String> = bars_of(&document).into_iter().map(|bar| bar.4).collect();
        assert_eq!(tooltips, ["t, a: 1", "s, b: 2"]);
        assert_tidy_coordinates(&document);
    }

    #[test]
    fn negative_bars_hang_below_the_baseline() {
        let chart = BarChart {
            title: "Change".to_owned(),
            categories: vec!["up".to_owned(), "down".to_owned()],
            series: vec![BarSeries {
                name: "delta".to_owned(),
                values: vec![30.0, -20.0],
            }],
            stacked: false,
            horizontal: false,
        };
        let svg = chart.svg(600, 300);
        let document = parse(&svg);
        let baseline = elements(document.root(), "line")
            .into_iter()
            .find(|line| line.attribute("class") == Some("baseline"))
            .map(|line| number(line, "y1"))
            .expect("baseline");
        let bars = bars_of(&document);
        assert!((bars[0].1 + bars[0].3 - baseline).abs() <= 0.11, "{bars:?}");
        assert!((bars[1].1 - baseline).abs() <= 0.11, "{bars:?}");
        assert!(
            texts_in(&document, "y-axis")
                .iter()
                .any(|label| label.starts_with('-'))
        );
        assert_eq!(texts_in(&document, "value-labels"), ["30", "-20"]);
    }

    #[test]
    fn bar_chart_without_data_says_so() {
        let no_categories = BarChart {
            title: "Empty".to_owned(),
            series: tier_chart(false, false).series,
            ..BarChart::default()
        };
        let no_series = BarChart {
            title: "Empty".to_owned(),
            categories: vec!["a".to_owned()],
            ..BarChart::default()
        };
        for chart in [no_categories, no_series, BarChart::default()] {
            let svg = chart.svg(400, 200);
            let document = parse(&svg);
            assert!(bars_of(&document).is_empty());
            assert!(
                elements(document.root(), "text")
                    .iter()
                    .any(|text| text.attribute("class") == Some("no-data"))
            );
        }
        let all_zero = BarChart {
            title: "Zeros".to_owned(),
            categories: vec!["a".to_owned()],
            series: vec![BarSeries {
                name: "s".to_owned(),
                values: vec![0.0],
            }],
            ..BarChart::default()
        };
        let svg = all_zero.svg(400, 200);
        let document = parse(&svg);
        assert_eq!(
            texts_in(&document, "y-axis").first().map(String::as_str),
            Some("0")
        );
        assert_eq!(bars_of(&document).len(), 1);
    }

    #[test]
    fn long_category_names_are_cut_with_the_full_name_as_tooltip() {
        let long = "A very long account segment name that cannot fit under a bar";
        let chart = BarChart {
            title: "Segments".to_owned(),
            categories: vec![
                long.to_owned(),
                "short".to_owned(),
                "x".to_owned(),
                "y".to_owned(),
            ],
            series: vec![BarSeries {
                name: "s".to_owned(),
                values: vec![1.0, 2.0, 3.0, 4.0],
            }],
            stacked: false,
            horizontal: false,
        };
        let svg = chart.svg(400, 200);
        let document = parse(&svg);
        let labels = texts_in(&document, "x-axis");
        assert!(
            labels[0].ends_with('…') && labels[0].len() < long.len(),
            "{labels:?}"
        );
        assert_eq!(labels[1], "short");
        let axis = group(&document, "x-axis").expect("x-axis");
        let titles: Vec<&str> = elements(axis, "title")
            .iter()
            .filter_map(|title| title.text())
            .collect();
        assert_eq!(titles, [long]);
    }

    #[test]
    fn legend_layout_wraps_rows() {
        let entries: Vec<LegendEntry> = (0..6)
            .map(|index| LegendEntry {
                label: format!("Segment {index}"),
                swatch: Swatch::Block { color: PALETTE[0] },
            })
            .collect();
        let layout = layout_legend(&entries, 0.0, 10.0, 200.0);
        assert!(layout.more.is_none());
        assert_eq!(layout.placed.len(), 6);
        assert!(layout.placed.iter().all(|placed| placed.end <= 200.0));
        let rows: Vec<f64> = layout.placed.iter().map(|placed| placed.y).collect();
        assert_eq!(rows, [10.0, 10.0, 26.0, 26.0, 42.0, 42.0]);
        assert_eq!(layout.height, 48.0);
        assert_eq!(layout_legend(&[], 0.0, 10.0, 200.0).height, 0.0);
    }
}
