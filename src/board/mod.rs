//! The situation board: a page the daemon serves at `/` on the API's address, drawn from the
//! same API a program reads (`/situation`, `/events`, the development and entity records),
//! so the board shows nothing a client could not get, and needs nothing but the binary.
//!
//! The page, its script, its style and the map data are compiled in (`static/`, `geo/`):
//! nothing is fetched from elsewhere at run time, and there is no build step beyond
//! `cargo build`. They are served without the API token, since they hold no situation data;
//! the page asks for the token and sends it with every request it makes for data.
//! `/board/places` (behind the token) places the situation's places and facilities on the
//! map with the compiled-in gazetteer; see [`places`].

mod place_index;
pub mod places;

use std::sync::{Arc, LazyLock};

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::api::Api;
use places::{Gazetteer, Places};

/// A compiled-in file: its name under `/board/assets/`, type and bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const INDEX: Asset = Asset {
    name: "index.html",
    content_type: "text/html; charset=utf-8",
    body: include_str!("static/index.html"),
};

const ASSETS: [Asset; 3] = [
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("static/app.js"),
    },
    Asset {
        name: "style.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("static/style.css"),
    },
    Asset {
        name: "world.json",
        content_type: "application/json",
        body: include_str!("geo/world.json"),
    },
];

/// Entity tags of the assets, made once: the browser revalidates each load (`no-cache`)
/// and gets `304 Not Modified` while the binary is the same.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    std::iter::once(&INDEX)
        .chain(ASSETS.iter())
        .map(|a| format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(a.body.as_bytes())))
        .collect()
});

/// The page's security policy: its own script, style and data only. The page writes news
/// text into the document as text, never as markup; this is the second line of defence.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The board's state: the gazetteer the map places entities with.
#[derive(Debug)]
pub struct Board {
    places: Arc<Places>,
}

impl Board {
    pub fn new(places: Arc<Places>) -> Arc<Self> {
        Arc::new(Self { places })
    }

    pub fn gazetteer(&self) -> &Gazetteer {
        self.places.get()
    }
}

/// The page and its assets, served without the token.
pub fn assets() -> Router<Api> {
    Router::new()
        .route(
            "/",
            get(|headers: HeaderMap| async move { serve(&INDEX, 0, &headers) }),
        )
        .route("/board/assets/{name}", get(asset))
}

async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    match ASSETS.iter().position(|a| a.name == name) {
        Some(i) => serve(&ASSETS[i], i + 1, &headers),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("no board asset `{name}`"), "status": 404})),
        )
            .into_response(),
    }
}

fn serve(a: &Asset, i: usize, headers: &HeaderMap) -> Response {
    let etag = &ETAGS[i];
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut r = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, a.content_type)], a.body).into_response()
    };
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The token may be in the page's address (`?access_token=`): never pass it on.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if a.name == INDEX.name {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    r
}

/// `GET /board/places`: `{"seq", "places": {entity id: {lat, lon, place, country,
/// match}}}` for every place and facility the gazetteer can place.
pub async fn located(State(api): State<Api>) -> Response {
    let board = api.board.clone();
    let situation = api.situation.clone();
    let placed = tokio::task::spawn_blocking(move || {
        let g = board.gazetteer();
        situation.read(|s| {
            let places: serde_json::Map<String, serde_json::Value> = s
                .entities()
                .filter_map(|e| {
                    let at = g.locate(e)?;
                    Some((e.id.clone(), serde_json::to_value(at).ok()?))
                })
                .collect();
            json!({"seq": s.seq(), "places": places})
        })
    })
    .await;
    match placed {
        Ok(v) => Json(v).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": format!("placing entities failed: {e}"), "status": 500})),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_distinct_tag() {
        let mut tags = ETAGS.clone();
        tags.sort();
        tags.dedup();
        assert_eq!(tags.len(), ASSETS.len() + 1);
    }

    #[test]
    fn a_matching_tag_gives_not_modified() {
        let none = serve(&ASSETS[0], 1, &HeaderMap::new());
        assert_eq!(none.status(), StatusCode::OK);
        let tag = none.headers()[header::ETAG].clone();
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, tag);
        assert_eq!(serve(&ASSETS[0], 1, &h).status(), StatusCode::NOT_MODIFIED);
        let index = serve(&INDEX, 0, &HeaderMap::new());
        assert!(index
            .headers()
            .contains_key(header::CONTENT_SECURITY_POLICY));
    }
}
