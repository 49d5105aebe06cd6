//! Bot filtering, in two halves. By user agent: a maintained list of the substrings crawlers,
//! link previewers, monitors, headless browsers and HTTP libraries put in their `User-Agent`.
//! By behaviour: [`RateFilter`], for the bots that copy a browser's user agent but not a
//! person's pace.
//!
//! Bots are dropped before they reach the activity log because engagement scores count page
//! views: one monitoring service hitting the pricing page every minute would make an account
//! look like it is buying.

use std::collections::BTreeMap;

/// User-agent substrings of bots, lowercase, matched anywhere in the lowercased user agent.
///
/// Sources: the user agents the crawlers and services below document, the families the
/// `isbot` and `crawler-user-agents` community lists group them in, and what abm's own
/// collect endpoint sees. The list holds families rather than names where a family marker
/// exists (`bot` covers Googlebot, bingbot, AhrefsBot, GPTBot, LinkedInBot, Slackbot…), and
/// no entry contains another (a test checks), so each line earns its place.
///
/// What is deliberately absent: in-app browsers of social apps (Facebook's `FBAN`,
/// Instagram, LinkedIn, Pinterest, Snapchat) and Electron apps. Those are people reading the
/// page inside an app, often exactly the people a campaign reached.
pub const BUILT_IN_BOT_AGENTS: &[&str] = &[
    // Self-declared crawlers: search engines, SEO tools, AI crawlers, most link previewers
    // ("Googlebot", "AhrefsBot", "GPTBot", "Slackbot-LinkExpanding", "Baiduspider",
    // "Bytespider", "CCBot", "Screaming Frog SEO Spider", "YandexBot", "UptimeRobot").
    "bot",
    "crawl",
    "spider",
    // Yahoo's crawler (Yahoo! Slurp) and web archivers (ia_archiver).
    "slurp",
    "archiver",
    // Google fetchers that do not say "bot".
    "googleother",
    "google-inspectiontool",
    "mediapartners-google",
    "apis-google",
    "feedfetcher",
    "google favicon",
    // AI assistants and crawlers fetching a page for a model, not for a reader of the site.
    "chatgpt-user",
    "perplexity-user",
    "claude-web",
    "anthropic-ai",
    "cohere-ai",
    "meta-externalagent",
    "meta-externalfetcher",
    // Link previews: a chat or social app fetching the page to draw a card (BingPreview,
    // "Google Web Preview", SkypeUriPreview, "Quora Link Preview").
    "facebookexternalhit",
    "facebookcatalog",
    "whatsapp",
    "preview",
    "embedly",
    "iframely",
    "vkshare",
    "flipboardproxy",
    "outbrain",
    // Headless and automated browsers: tests, scrapers, screenshot services.
    "headless",
    "phantomjs",
    "puppeteer",
    "playwright",
    "selenium",
    "webdriver",
    "cypress",
    "jsdom",
    // Performance audits ("Chrome-Lighthouse", "Google Page Speed Insights", WebPageTest's
    // "PTST/") and uptime monitors: they load the page on a schedule.
    "lighthouse",
    "pagespeed",
    "page speed",
    "gtmetrix",
    "ptst/",
    "pingdom",
    "statuscake",
    "datadog",
    "newrelicpinger",
    "site24x7",
    "checkly",
    "catchpoint",
    "uptime-kuma",
    "healthcheck",
    "health-check",
    "check_http",
    "zabbix",
    "blackbox exporter",
    // HTTP libraries and command-line tools: a script, not a browser.
    "curl/",
    "wget/",
    "python-requests",
    "python-urllib",
    "python-httpx",
    "aiohttp",
    "go-http-client",
    "java/",
    "okhttp",
    "libwww",
    "httpclient",
    "axios/",
    "node-fetch",
    "undici",
    "guzzlehttp",
    "faraday v",
    "postmanruntime",
    "insomnia/",
    "httpie/",
    "restsharp",
    "dart:io",
    "windowspowershell",
    "mechanize",
    "scrapy",
    "nutch",
    "heritrix",
    "httrack",
    "colly",
    // Security and internet-wide scanners.
    "zgrab",
    "masscan",
    "nmap",
    "nikto",
    "sqlmap",
    "nuclei",
    "wpscan",
    "censysinspect",
    "netcraft",
    "expanse",
];

/// Real devices whose user agent happens to contain a bot marker: removed before matching.
/// Cubot is an Android phone maker ("CUBOT_X30"), its people are not bots.
const NOT_BOTS: &[&str] = &["cubot"];

/// Why a user agent is a bot, or `None` for what looks like a browser: the matched
/// substring (as listed), or "no user agent". `extra` are `[tracking] extra_bot_agents`, any
/// case.
pub fn bot_agent(user_agent: Option<&str>, extra: &[String]) -> Option<String> {
    let Some(agent) = user_agent.map(str::trim).filter(|agent| !agent.is_empty()) else {
        // Every browser sends one; only scripts leave it out.
        return Some("no user agent".to_owned());
    };
    let mut agent = agent.to_ascii_lowercase();
    for person in NOT_BOTS {
        if agent.contains(person) {
            agent = agent.replace(person, " ");
        }
    }
    if let Some(token) = BUILT_IN_BOT_AGENTS
        .iter()
        .find(|token| agent.contains(**token))
    {
        return Some((*token).to_owned());
    }
    extra
        .iter()
        .map(|token| token.trim())
        .find(|token| !token.is_empty() && agent.contains(&token.to_ascii_lowercase()))
        .map(str::to_owned)
}

const MINUTE_MICROS: i64 = 60_000_000;

/// Events per visitor per fixed one-minute window, in bounded memory. A visitor past the
/// limit stays refused until its window ends: a person reading pages sends a few events a
/// minute, a scraper with a browser's user agent sends hundreds.
///
/// Memory holds at most `capacity` visitors. When it is full, windows that have ended are
/// dropped first; if every window is still live (a flood of distinct visitor ids), the oldest
/// tenth is forgotten at once, so the sweep is paid once per many new visitors. A forgotten
/// visitor starts a fresh window: under such a flood the filter guarantees its memory, not its
/// memory of every visitor. Visitors are kept in a `BTreeMap`: their ids come from the
/// outside, and an ordered map cannot be slowed down by ids crafted to collide in a hash.
#[derive(Debug, Clone)]
pub struct RateFilter {
    max_per_minute: u32,
    capacity: usize,
    windows: BTreeMap<Box<str>, Window>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started_at: i64,
    events: u32,
}

impl Window {
    /// A time before the window's start (clocks of two threads) counts in the window.
    fn ended(self, at: i64) -> bool {
        at.saturating_sub(self.started_at) >= MINUTE_MICROS
    }
}

impl RateFilter {
    /// `max_per_minute` events per visitor and minute (0 refuses everything); at most
    /// `capacity` visitors remembered (at least one).
    pub fn new(max_per_minute: u32, capacity: usize) -> Self {
        Self {
            max_per_minute,
            capacity: capacity.max(1),
            windows: BTreeMap::new(),
        }
    }

    /// Counts one event of `visitor` at `at` (microseconds since the epoch); `true` while the
    /// visitor is within the limit of its current window.
    pub fn observe(&mut self, visitor: &str, at: i64) -> bool {
        if let Some(window) = self.windows.get_mut(visitor) {
            if window.ended(at) {
                *window = Window {
                    started_at: at,
                    events: 0,
                };
            }
            window.events = window.events.saturating_add(1);
            return window.events <= self.max_per_minute;
        }
        if self.windows.len() >= self.capacity {
            self.make_room(at);
        }
        self.windows.insert(
            visitor.into(),
            Window {
                started_at: at,
                events: 1,
            },
        );
        self.max_per_minute >= 1
    }

    /// Visitors currently remembered.
    pub fn len(&self) -> usize {
        self.windows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }

    fn make_room(&mut self, at: i64) {
        self.windows.retain(|_, window| !window.ended(at));
        if self.windows.len() < self.capacity {
            return;
        }
        let forget = (self.capacity / 10).max(1);
        let mut starts: Vec<i64> = self
            .windows
            .values()
            .map(|window| window.started_at)
            .collect();
        let (_, cutoff, _) = starts.select_nth_unstable(forget - 1);
        let cutoff = *cutoff;
        // Exactly `forget` windows go: all older than the cutoff, then as many started at it.
        let older = starts.iter().filter(|start| **start < cutoff).count();
        let mut at_cutoff = forget - older;
        self.windows.retain(|_, window| {
            if window.started_at < cutoff {
                false
            } else if window.started_at == cutoff && at_cutoff > 0 {
                at_cutoff -= 1;
                false
            } else {
                true
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real user agents of people's browsers, desktop and mobile, as sent in 2024–2025.
    const BROWSERS: &[&str] = &[
        // Chrome, Windows / macOS / Linux
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        // Firefox, Windows / macOS / Linux
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0",
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        // Safari, macOS / iPhone / iPad
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
        // Edge, desktop and Android
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0",
        // Chrome and Firefox on iOS, Chrome on Android
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15",
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
        // Samsung Internet, Opera, Firefox for Android
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0",
        "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
        // In-app browsers: people reading inside LinkedIn and Facebook.
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [LinkedInApp]/9.30.1",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/470.0.0.38.108;FBBV/614783530;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.5;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]",
        // A phone whose model name contains "bot".
        "Mozilla/5.0 (Linux; Android 10; CUBOT_X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.210 Mobile Safari/537.36",
    ];

    #[test]
    fn browsers_pass() {
        for agent in BROWSERS {
            assert_eq!(bot_agent(Some(agent), &[]), None, "{agent}");
        }
    }

    #[test]
    fn bots_are_caught_with_their_reason() {
        for (agent, reason) in [
            (
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                "bot",
            ),
            (
                "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
                "bot",
            ),
            (
                "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
                "slurp",
            ),
            (
                "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
                "spider",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
                "headless",
            ),
            (
                "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
                "lighthouse",
            ),
            ("curl/8.5.0", "curl/"),
            ("Wget/1.21.4", "wget/"),
            ("python-requests/2.32.3", "python-requests"),
            ("Python-urllib/3.12", "python-urllib"),
            ("Go-http-client/2.0", "go-http-client"),
            ("Java/17.0.9", "java/"),
            ("okhttp/4.12.0", "okhttp"),
            ("Apache-HttpClient/4.5.14 (Java/17.0.9)", "java/"),
            ("libwww-perl/6.72", "libwww"),
            ("Scrapy/2.11.0 (+https://scrapy.org)", "scrapy"),
            (
                "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
                "facebookexternalhit",
            ),
            ("WhatsApp/2.23.20.0", "whatsapp"),
            (
                "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
                "bot",
            ),
            (
                "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
                "preview",
            ),
            (
                "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
                "bot",
            ),
            (
                "Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
                "bot",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 DatadogSynthetics",
                "datadog",
            ),
            (
                "Mozilla/5.0 (Linux; Android 11; Pixel 2; DuplexWeb-Google/1.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/86.0.4240.193 Mobile Safari/537.36 (compatible; GoogleOther)",
                "googleother",
            ),
            (
                "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ChatGPT-User/1.0; +https://openai.com/bot)",
                "bot",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 PTST/240201.151311",
                "ptst/",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 playwright/1.49",
                "playwright",
            ),
            ("ELB-HealthChecker/2.0", "healthcheck"),
            ("Mozilla/5.0 zgrab/0.x", "zgrab"),
            // A phone maker's name does not hide a real bot marker.
            ("CUBOT crawler", "crawl"),
        ] {
            assert_eq!(
                bot_agent(Some(agent), &[]).as_deref(),
                Some(reason),
                "{agent}"
            );
        }
    }

    #[test]
    fn a_missing_or_blank_user_agent_is_a_bot() {
        assert_eq!(bot_agent(None, &[]).as_deref(), Some("no user agent"));
        assert_eq!(bot_agent(Some(""), &[]).as_deref(), Some("no user agent"));
        assert_eq!(
            bot_agent(Some("  \t"), &[]).as_deref(),
            Some("no user agent")
        );
    }

    #[test]
    fn extra_agents_match_in_any_case_and_blank_ones_match_nothing() {
        let extra = vec!["  ".to_owned(), " AcmeMonitor ".to_owned()];
        let agent = "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36 acmemonitor/3";
        assert_eq!(bot_agent(Some(agent), &[]), None);
        assert_eq!(
            bot_agent(Some(agent), &extra).as_deref(),
            Some("AcmeMonitor")
        );
        for browser in BROWSERS {
            assert_eq!(bot_agent(Some(browser), &extra), None, "{browser}");
        }
    }

    #[test]
    fn the_list_is_lowercase_unique_and_without_redundant_entries() {
        for token in BUILT_IN_BOT_AGENTS {
            assert!(!token.trim().is_empty());
            assert_eq!(
                *token,
                token.to_ascii_lowercase(),
                "matching lowercases the agent"
            );
            for other in BUILT_IN_BOT_AGENTS {
                assert!(
                    token == other || !token.contains(other),
                    "{token:?} is covered by {other:?}"
                );
            }
        }
        for person in NOT_BOTS {
            assert!(
                BUILT_IN_BOT_AGENTS
                    .iter()
                    .any(|token| person.contains(token))
            );
        }
    }

    const SECOND: i64 = 1_000_000;
    const T0: i64 = 1_767_225_600 * SECOND;

    #[test]
    fn a_visitor_past_the_limit_is_refused_until_the_window_ends() {
        let mut rates = RateFilter::new(3, 100);
        let results: Vec<bool> = (0..5)
            .map(|n| rates.observe("v1", T0 + n * SECOND))
            .collect();
        assert_eq!(results, [true, true, true, false, false]);
        // Another visitor has its own window.
        assert!(rates.observe("v2", T0 + 5 * SECOND));
        // Still the first window, one microsecond before its end.
        assert!(!rates.observe("v1", T0 + 60 * SECOND - 1));
        // A new window: counted from zero again.
        assert!(rates.observe("v1", T0 + 60 * SECOND));
        assert!(rates.observe("v1", T0 + 61 * SECOND));
        assert!(rates.observe("v1", T0 + 62 * SECOND));
        assert!(!rates.observe("v1", T0 + 63 * SECOND));
    }

    #[test]
    fn a_clock_going_back_counts_in_the_current_window() {
        let mut rates = RateFilter::new(2, 10);
        assert!(rates.observe("v", T0));
        assert!(rates.observe("v", T0 - 5 * SECOND));
        assert!(!rates.observe("v", T0 - 120 * SECOND));
    }

    #[test]
    fn a_limit_of_zero_refuses_everything() {
        let mut rates = RateFilter::new(0, 10);
        assert!(!rates.observe("v", T0));
        assert!(!rates.observe("v", T0 + 120 * SECOND));
    }

    #[test]
    fn memory_stays_bounded_under_a_flood_of_visitors() {
        let mut rates = RateFilter::new(5, 50);
        for n in 0..10_000 {
            assert!(rates.observe(&format!("visitor-{n}"), T0 + n));
            assert!(rates.len() <= 50);
        }
        // All at the same instant too.
        let mut same = RateFilter::new(5, 50);
        for n in 0..1_000 {
            same.observe(&format!("visitor-{n}"), T0);
            assert!(same.len() <= 50);
        }
        assert!(same.len() >= 45, "forgets a tenth at a time, not all");
        let mut tiny = RateFilter::new(5, 0);
        tiny.observe("a", T0);
        tiny.observe("b", T0);
        assert_eq!(tiny.len(), 1);
    }

    #[test]
    fn ended_windows_go_first_then_the_oldest() {
        let mut rates = RateFilter::new(1, 10);
        for n in 0..10 {
            rates.observe(&format!("old-{n}"), T0 + n * SECOND);
        }
        assert_eq!(rates.len(), 10);
        // A minute later every window has ended: all make room for the newcomer.
        assert!(rates.observe("new", T0 + 70 * SECOND));
        assert_eq!(rates.len(), 1);

        let mut rates = RateFilter::new(1, 10);
        for n in 0..10 {
            rates.observe(&format!("live-{n}"), T0 + n * SECOND);
        }
        // All live: the oldest (live-0) is forgotten, the others still remembered.
        assert!(rates.observe("newcomer", T0 + 10 * SECOND));
        assert_eq!(rates.len(), 10);
        assert!(
            !rates.observe("live-1", T0 + 11 * SECOND),
            "remembered: over its limit"
        );
        assert!(
            rates.observe("live-0", T0 + 11 * SECOND),
            "forgotten: a fresh window"
        );
        assert!(!rates.is_empty());
    }
}
