//! First-party tracking over HTTP: the snippet (`/t.js`), the collect endpoint, the email open
//! pixel and click redirect (signed links), and the personalization endpoint a website calls to
//! adapt to the visitor's account. These routes take no sign-in: they are called by browsers
//! on the team's website and by mail clients. What protects them: validation of every field,
//! small size limits, bot and privacy filters, signatures on links, and a bounded queue.

use crate::AppState;
use crate::collect::{CollectError, Counters};
use crate::problem::Problem;
use abm_core::tracking::{self, CollectEvent, RawEvent};
use abm_engine::tracking::{NetworkMatch, TrackedEvent};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use std::net::{IpAddr, SocketAddr};

/// The most events one collect call may carry, and its largest body.
pub const MAX_EVENTS: usize = 50;
pub const MAX_COLLECT_BYTES: usize = 64 * 1024;

const SNIPPET: &str = include_str!("../assets/t.js");
/// A transparent 1×1 GIF.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/t.js", get(snippet))
        .route("/t/collect", post(collect).options(preflight))
        .route("/t/o/{token}", get(open_pixel))
        .route("/t/c/{token}", get(click))
        .route("/t/personalize", get(personalize).options(preflight))
}

async fn snippet() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SNIPPET,
    )
        .into_response()
}

/// CORS for the team's website: any origin unless `[tracking] allowed_origins` lists some.
fn cors(state: &AppState, headers: &HeaderMap, response: &mut Response) {
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok());
    if let Some(origin) = origin
        && state.settings().tracking.origin_allowed(Some(origin))
        && let Ok(value) = HeaderValue::from_str(origin)
    {
        let response_headers = response.headers_mut();
        response_headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        response_headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        response_headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type"),
        );
        response_headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
    }
}

async fn preflight(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    cors(&state, &headers, &mut response);
    response
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CollectBody {
    events: Vec<RawEvent>,
}

/// The client address: the peer, or with `--behind-proxy` the address the proxy appended last
/// to `X-Forwarded-For` (earlier entries are the client's own claims).
fn client_ip(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    if state.settings().behind_proxy
        && let Some(forwarded) = headers
            .get("x-forwarded-for")
            .and_then(|value| value.to_str().ok())
        && let Some(last) = forwarded.rsplit(',').next()
        && let Ok(ip) = last.trim().parse::<IpAddr>()
    {
        return ip;
    }
    peer.ip()
}

fn header_is(headers: &HeaderMap, name: &str, value: &str) -> bool {
    headers
        .get(name)
        .and_then(|sent| sent.to_str().ok())
        .is_some_and(|sent| sent.trim() == value)
}

/// `POST /t/collect` with `{"events": [...]}` (sent as text/plain by the snippet). Answers 204
/// once the events are stored (or deliberately not: bots, Do-Not-Track), 400 naming the field
/// of a malformed event (nothing of the call is stored), 413 when too large, 503 when busy.
async fn collect(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let mut response = match collect_events(&state, &headers, peer, &body).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(problem) => problem.into_response(),
    };
    cors(&state, &headers, &mut response);
    response
}

async fn collect_events(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    body: &[u8],
) -> Result<(), Problem> {
    let Some(collector) = state.collector() else {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            "tracking is turned off ([tracking] enabled = false)",
        ));
    };
    let counters = &collector.counters;
    if body.len() > MAX_COLLECT_BYTES {
        Counters::add(&counters.invalid, 1);
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a collect call carries at most {MAX_COLLECT_BYTES} bytes"),
        ));
    }
    let parsed: CollectBody = serde_json::from_slice(body).map_err(|error| {
        Counters::add(&counters.invalid, 1);
        Problem::bad_request("events", format!("not a collect body: {error}"))
    })?;
    let received = parsed.events.len() as u64;
    Counters::add(&counters.received, received);
    if parsed.events.is_empty() || parsed.events.len() > MAX_EVENTS {
        Counters::add(&counters.invalid, received);
        return Err(Problem::bad_request(
            "events",
            format!("send 1 to {MAX_EVENTS} events"),
        ));
    }
    let config = &state.settings().tracking;
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok());
    if tracking::bot_agent(user_agent, &config.extra_bot_agents).is_some() {
        Counters::add(&counters.bots, received);
        return Ok(());
    }
    let now = jiff::Timestamp::now().as_microsecond();
    let mut events = Vec::with_capacity(parsed.events.len());
    for (index, raw) in parsed.events.into_iter().enumerate() {
        let consent = raw.consent;
        let event = CollectEvent::parse(raw, now, config).map_err(|error| {
            Counters::add(&counters.invalid, received);
            Problem::bad_request(
                &format!("events[{index}].{}", error.field),
                error.to_string(),
            )
        })?;
        if tracking::privacy(
            config,
            header_is(headers, "dnt", "1"),
            header_is(headers, "sec-gpc", "1"),
            consent,
        )
        .is_err()
        {
            Counters::add(&counters.refused_privacy, 1);
            continue;
        }
        events.push(event);
    }
    // Behaviour: a visitor sending faster than a person browses is a bot for the minute.
    if let Ok(mut rates) = collector.rates.lock() {
        let before = events.len();
        events.retain(|event| rates.observe(event.visitor(), now));
        Counters::add(&counters.bots, (before - events.len()) as u64);
    }
    if events.is_empty() {
        return Ok(());
    }
    let ip = client_ip(state, headers, peer);
    let network = state.identify_network(ip);
    let tracked = events
        .iter()
        .map(|event| TrackedEvent {
            activity: event.activity(config),
            visitor: Some(event.visitor().to_owned()),
            identifies: event.identifies().cloned(),
            network: network.clone(),
            at: now,
        })
        .collect();
    collector.store(tracked).await.map_err(collect_problem)
}

fn collect_problem(error: CollectError) -> Problem {
    match error {
        CollectError::Overloaded => {
            Problem::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string())
        }
        CollectError::Stopped | CollectError::Store(_) => Problem::internal(error),
        // The stream is unreachable for now: the caller may retry (ids make it safe).
        CollectError::Stream(_) => Problem::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string()),
    }
}

/// `GET /t/o/{token}.gif`: an email was opened. The token is a signed (message id, email);
/// the image is returned whatever happens, so a mail client never shows a broken image.
async fn open_pixel(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let token = token.strip_suffix(".gif").unwrap_or(&token);
    if let Ok(link) = tracking::verify_link(state.link_key(), token)
        && let Some(event) = email_event(&link, abm_core::ActivityKind::EmailOpen, None)
        && let Some(collector) = state.collector()
        && let Err(error) = collector.store(vec![event]).await
    {
        tracing::warn!(%error, "an email open was not stored");
    }
    (
        [
            (header::CONTENT_TYPE, "image/gif"),
            (header::CACHE_CONTROL, "no-store, max-age=0"),
        ],
        PIXEL,
    )
        .into_response()
}

/// `GET /t/c/{token}`: a tracked link was clicked; redirects to the signed URL (never to a URL
/// the request names: abm is no open redirect).
async fn click(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let link = match tracking::verify_link(state.link_key(), &token) {
        Ok(link) => link,
        Err(error) => {
            return Problem::new(StatusCode::NOT_FOUND, format!("unknown link: {error}"))
                .into_response();
        }
    };
    let Some(url) = link.url.clone() else {
        return Problem::new(StatusCode::NOT_FOUND, "this link has no destination").into_response();
    };
    if let Some(event) = email_event(&link, abm_core::ActivityKind::EmailClick, Some(&url))
        && let Some(collector) = state.collector()
        && let Err(error) = collector.store(vec![event]).await
    {
        tracing::warn!(%error, "an email click was not stored");
    }
    Redirect::to(&url).into_response()
}

/// An open or click as an activity: one per message (opens) or per message and link (clicks).
fn email_event(
    link: &tracking::LinkPayload,
    kind: abm_core::ActivityKind,
    url: Option<&str>,
) -> Option<TrackedEvent> {
    let email = abm_core::Email::parse(&link.email).ok()?;
    let id = match url {
        Some(url) => format!(
            "click:{}:{:016x}",
            link.message_id,
            xxhash_rust::xxh3::xxh3_64(url.as_bytes())
        ),
        None => format!("open:{}", link.message_id),
    };
    let now = jiff::Timestamp::now();
    let activity = abm_core::Activity {
        id: abm_core::ActivityId::parse(&id).ok()?,
        kind,
        occurred_at: now,
        email: Some(email),
        domain: None,
        url: url.map(str::to_owned),
        topic: None,
        campaign: Some(link.message_id.clone()),
        channel: Some("email".into()),
    };
    Some(TrackedEvent {
        activity: Some(activity),
        visitor: None,
        identifies: None,
        network: None,
        at: now.as_microsecond(),
    })
}

#[derive(serde::Deserialize)]
struct PersonalizeQuery {
    visitor: Option<String>,
}

/// What the website adapts to.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Personalization {
    /// Whether the visitor's account is known (by an identify or by their network)
    pub known: bool,
    pub account: Option<String>,
    pub name: Option<String>,
    pub industry: Option<String>,
    pub tier: Option<String>,
    pub cluster: Option<String>,
    pub stage: Option<String>,
    /// The rule that picked the variant; absent for the default
    pub rule: Option<String>,
    /// headline, case_study, cta and the rule's extra fields
    #[schema(value_type = Object)]
    pub variant: abm_core::personalize::Variant,
}

/// `GET /t/personalize?visitor=ID`: the visitor's account (tier, cluster, industry, stage) and
/// the content variant `[personalization]` picks for it; anonymous visitors get the default.
async fn personalize(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<PersonalizeQuery>,
) -> Response {
    let visitor = query
        .visitor
        .filter(|visitor| tracking::valid_visitor_id(visitor));
    let network = state.identify_network(client_ip(&state, &headers, peer));
    let result = state
        .with_store(
            move |store| -> Result<Option<abm_store::tracking::AccountProfile>, Problem> {
                let sql = store.sql();
                let mut account = match &visitor {
                    Some(visitor) => abm_store::tracking::visitor(sql, visitor)?
                        .and_then(|stored| stored.account_id),
                    None => None,
                };
                if account.is_none()
                    && let Some(network) = network
                {
                    account = store
                        .account_by_domain(&network.domain)?
                        .map(|(id, _)| id.0);
                }
                match account {
                    Some(account) => {
                        Ok(abm_store::tracking::account_profile(store.sql(), account)?)
                    }
                    None => Ok(None),
                }
            },
        )
        .await;
    let profile = match result {
        Ok(Ok(profile)) => profile,
        Ok(Err(problem)) | Err(problem) => return problem.into_response(),
    };
    let config = &state.settings().personalization;
    let core_profile = profile
        .as_ref()
        .map(|profile| abm_core::personalize::Profile {
            industry: profile.industry.clone(),
            tier: profile
                .tier
                .as_deref()
                .and_then(|tier| abm_core::tal::Tier::parse(tier).ok()),
            cluster: profile.cluster.clone(),
            stage: profile
                .stage
                .as_deref()
                .and_then(|stage| stage.parse().ok()),
            fit: profile.fit,
        });
    let picked = abm_core::personalize::pick(config, core_profile.as_ref());
    let body = Personalization {
        known: profile.is_some(),
        account: profile.as_ref().map(|profile| profile.domain.clone()),
        name: profile.as_ref().and_then(|profile| profile.name.clone()),
        industry: profile
            .as_ref()
            .and_then(|profile| profile.industry.clone()),
        tier: profile.as_ref().and_then(|profile| profile.tier.clone()),
        cluster: profile.as_ref().and_then(|profile| profile.cluster.clone()),
        stage: profile.as_ref().and_then(|profile| profile.stage.clone()),
        rule: picked.rule.map(str::to_owned),
        variant: picked.variant.clone(),
    };
    let mut response = (
        [(header::CACHE_CONTROL, "private, no-store")],
        axum::Json(body),
    )
        .into_response();
    cors(&state, &headers, &mut response);
    response
}

impl AppState {
    /// The company of a visitor's network, when reverse-IP is configured and confident.
    pub fn identify_network(&self, ip: IpAddr) -> Option<NetworkMatch> {
        let reverse_ip = self.reverse_ip()?;
        match reverse_ip.identify(ip) {
            abm_core::reverse_ip::Outcome::Identified(found) => Some(NetworkMatch {
                domain: found.domain?,
                organization: found.organization,
                confidence: found.confidence,
            }),
            _ => None,
        }
    }
}

/// What the collector has done since this server started (events received, stored, refused as
/// bots or by privacy signals, …): how a team checks its snippet works.
#[utoipa::path(
    get,
    path = "/tracking",
    responses(
        (status = 200, body = crate::collect::CollectorStats),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
pub async fn tracking_stats(
    State(state): State<AppState>,
    caller: crate::auth::Caller,
) -> Result<axum::Json<crate::collect::CollectorStats>, Problem> {
    caller.require(&[
        abm_core::tal::UserRole::Admin,
        abm_core::tal::UserRole::Marketing,
    ])?;
    match state.collector() {
        Some(collector) => Ok(axum::Json(collector.counters.snapshot())),
        None => Err(Problem::not_found(
            "tracking is turned off ([tracking] enabled = false)",
        )),
    }
}
