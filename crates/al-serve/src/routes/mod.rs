//! Requests: the access guard and what every handler shares (problems as
//! pages, the visitor's cookies, posted fields). The label page and its
//! posts are in [`label`], the project page, query and downloads in
//! [`project`]. Work on the project file runs on tokio's blocking threads;
//! every change is one transaction.

mod label;
mod label_studio;
mod project;

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Form, FromRequest, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::Markup;

use crate::auth::{self, ANNOTATOR_COOKIE, CSRF_COOKIE, TOKEN_COOKIE};
use crate::pages;
use crate::{App, BODY_LIMIT};

type Shared = Arc<App>;

pub fn router(app: Shared) -> Router {
    Router::new()
        .route("/", get(project::page))
        .route("/label", get(label::page))
        .route(
            "/annotator",
            get(label::name_page).post(label::set_annotator),
        )
        .route("/answer", post(label::answer))
        .route("/skip", post(label::skip))
        .route("/undo", post(label::undo))
        .route("/query", post(project::query))
        .route("/plot.svg", get(project::plot))
        .route("/download/batch.csv", get(project::download_batch))
        .route("/download/export.csv", get(project::download_export))
        .route("/assets/style.css", get(style))
        .route("/assets/app.js", get(script))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .nest("/label-studio", label_studio::router())
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

/// A refusal or failure shown as a page with its status.
struct Problem {
    status: StatusCode,
    title: &'static str,
    text: String,
    back: (&'static str, &'static str),
}

impl Problem {
    fn new(status: StatusCode, title: &'static str, text: impl Into<String>) -> Problem {
        Problem {
            status,
            title,
            text: text.into(),
            back: ("/label", "Back to labeling"),
        }
    }

    fn back_to_project(mut self) -> Problem {
        self.back = ("/", "Back to the project");
        self
    }

    fn internal(e: impl std::fmt::Display) -> Problem {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            format!("{e}"),
        )
    }
}

/// A page's answer: a problem carries its own page.
type Page = Result<Response, Problem>;

struct Rendered<'a>(&'a App, Problem);

impl IntoResponse for Rendered<'_> {
    fn into_response(self) -> Response {
        let Rendered(app, p) = self;
        let page = pages::message(&app.shape.name, p.title, &p.text, p.back);
        (p.status, html_headers(), page.into_string()).into_response()
    }
}

fn html_headers() -> [(header::HeaderName, &'static str); 2] {
    [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
    ]
}

/// Runs `f` on a blocking thread (SQLite calls block).
async fn blocking<T: Send + 'static>(
    app: &Shared,
    f: impl FnOnce(&Shared) -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    let app = app.clone();
    tokio::task::spawn_blocking(move || f(&app))
        .await
        .unwrap_or_else(|e| Err(Problem::internal(e)))
}

/// Every request passes here first: the token (or, without one, a
/// loopback `Host`), then the security headers on the way out.
async fn guard(State(app): State<Shared>, request: Request, next: Next) -> Response {
    if let Some(token) = &app.token {
        let from_query = request.uri().query().and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "token")
                .map(|(_, v)| v.into_owned())
        });
        if let Some(given) = from_query {
            if auth::same_secret(&given, token) {
                // Kept in a cookie, dropped from the address bar and history.
                let mut response =
                    Redirect::to(same_site_path(request.uri().path())).into_response();
                set_header(
                    &mut response,
                    header::SET_COOKIE,
                    &auth::set_cookie(TOKEN_COOKIE, token, true),
                );
                return secured(response);
            }
        }
        let headers = request.headers();
        let by_cookie = cookie_header(headers)
            .and_then(|c| auth::cookie(c, TOKEN_COOKIE))
            .is_some_and(|c| auth::same_secret(c, token));
        let authorization = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let by_bearer = authorization
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|b| auth::same_secret(b.trim(), token));
        // Label Studio's ML backend settings send basic auth: the token
        // as the password (any user name).
        let by_basic = authorization
            .and_then(auth::basic_password)
            .is_some_and(|p| auth::same_secret(&p, token));
        if !(by_cookie || by_bearer || by_basic) {
            let page = pages::unauthorized().into_string();
            return secured((StatusCode::UNAUTHORIZED, html_headers(), page).into_response());
        }
    } else {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        if !auth::is_loopback_host(host) {
            let text = format!(
                "this workbench answers to 127.0.0.1 or localhost only, not {host:?}; to share it on a network, run `al-cli serve --host 0.0.0.0` (it prints an address with a token)"
            );
            return secured((StatusCode::FORBIDDEN, text).into_response());
        }
    }
    secured(next.run(request).await)
}

/// `path` when it stays on this server; `/` for what a browser would read
/// as another host (`//evil.example`, `/\\evil.example`).
fn same_site_path(path: &str) -> &str {
    let second = path.as_bytes().get(1);
    if path.starts_with('/') && !matches!(second, Some(b'/' | b'\\')) {
        path
    } else {
        "/"
    }
}

fn secured(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn set_header(response: &mut Response, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().append(name, v);
    }
}

fn cookie_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::COOKIE).and_then(|v| v.to_str().ok())
}

/// Who is asking: their name (when given) and the CSRF secret of their
/// browser, made now when it has none.
struct Visitor {
    annotator: Option<String>,
    csrf: String,
    new_csrf: bool,
}

impl Visitor {
    fn of(headers: &HeaderMap) -> Visitor {
        let cookies = cookie_header(headers).unwrap_or("");
        let annotator = auth::cookie(cookies, ANNOTATOR_COOKIE)
            .map(auth::decode_cookie_value)
            .and_then(|n| auth::check_annotator(&n).ok());
        let existing = auth::cookie(cookies, CSRF_COOKIE)
            .filter(|c| c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit()));
        Visitor {
            annotator,
            csrf: existing.map_or_else(auth::random_secret, str::to_string),
            new_csrf: existing.is_none(),
        }
    }

    /// A page for this visitor (sets the CSRF cookie when it is new).
    fn page(&self, status: StatusCode, markup: Markup) -> Response {
        let mut response = (status, html_headers(), markup.into_string()).into_response();
        if self.new_csrf {
            set_header(
                &mut response,
                header::SET_COOKIE,
                &auth::set_cookie(CSRF_COOKIE, &self.csrf, true),
            );
        }
        response
    }
}

/// A posted form's fields.
struct Fields(HashMap<String, String>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The form's `csrf` field equals the browser's cookie, else 403.
    fn check_csrf(&self, headers: &HeaderMap) -> Result<(), Problem> {
        let cookie = cookie_header(headers).and_then(|c| auth::cookie(c, CSRF_COOKIE));
        match (cookie, self.get("csrf")) {
            (Some(c), Some(f)) if !c.is_empty() && auth::same_secret(f, c) => Ok(()),
            _ => Err(Problem::new(
                StatusCode::FORBIDDEN,
                "Form refused",
                "this form did not come from this workbench's page (its CSRF token is missing or does not match); reload the page and send it again",
            )),
        }
    }

    fn row_id(&self) -> Result<i64, Problem> {
        let text = self.get("row_id").unwrap_or("").trim();
        text.parse().map_err(|_| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "Form refused",
                format!("field row_id: {text:?} is not a row id"),
            )
        })
    }
}

/// A posted form whose CSRF field matched the browser's cookie, and who
/// posted it; anything else is refused before a handler runs (403, or 413
/// for a body over the limit).
struct Posted {
    fields: Fields,
    visitor: Visitor,
}

impl FromRequest<Shared> for Posted {
    type Rejection = Response;

    async fn from_request(request: Request, app: &Shared) -> Result<Posted, Response> {
        let headers = request.headers().clone();
        let Form(map) = Form::<HashMap<String, String>>::from_request(request, app)
            .await
            .map_err(IntoResponse::into_response)?;
        let fields = Fields(map);
        fields
            .check_csrf(&headers)
            .map_err(|p| Rendered(app, p).into_response())?;
        Ok(Posted {
            fields,
            visitor: Visitor::of(&headers),
        })
    }
}

impl Posted {
    /// The annotator named in the cookie, or 403 (name first: GET /label).
    fn annotator(&self) -> Result<String, Problem> {
        self.visitor.annotator.clone().ok_or_else(|| {
            Problem::new(
                StatusCode::FORBIDDEN,
                "Who is answering?",
                "give your name on the label page first: every answer records who gave it",
            )
        })
    }
}

/// Posts answer with 303 to the page that shows the outcome.
fn see(location: &str) -> Response {
    Redirect::to(location).into_response()
}

fn respond(app: &App, page: Page) -> Response {
    page.unwrap_or_else(|p| Rendered(app, p).into_response())
}

async fn style() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        pages::STYLE,
    )
        .into_response()
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        pages::SCRIPT,
    )
        .into_response()
}

async fn not_found(State(app): State<Shared>) -> Response {
    Rendered(
        &app,
        Problem::new(
            StatusCode::NOT_FOUND,
            "Not found",
            "there is no such page here",
        )
        .back_to_project(),
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_redirect_stays_on_this_server() {
        assert_eq!(same_site_path("/label"), "/label");
        assert_eq!(same_site_path("/"), "/");
        assert_eq!(same_site_path("//evil.example/x"), "/");
        assert_eq!(same_site_path("/\\evil.example"), "/");
        assert_eq!(same_site_path(""), "/");
    }
}
