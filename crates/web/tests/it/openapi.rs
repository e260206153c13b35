use actix_web::test::{self, TestRequest};
use serde_json::Value;

use crate::support::{Ports, send};

/// The contract's operations and status codes, kept as test data: `METHOD PATH CODE...`.
const CONTRACT: &str = include_str!("../contract-operations.txt");

/// The contract's operations, one `METHOD PATH CODE...` line each (comments and blank lines
/// skipped).
fn contract_operations() -> Vec<&'static str> {
    CONTRACT
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .collect()
}

async fn document() -> Value {
    let reply = send(
        &Ports::default().state(),
        TestRequest::get().uri("/api/openapi.json"),
    )
    .await;
    assert_eq!(reply.status, 200);
    reply.body
}

#[actix_web::test]
async fn the_document_is_openapi_3_1_for_the_api_under_its_server_url() {
    let document = document().await;

    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["servers"][0]["url"], "/api");
    assert!(document["components"]["securitySchemes"]["Token"].is_object());
}

#[actix_web::test]
async fn every_operation_of_the_contract_is_documented_with_its_status_codes() {
    let document = document().await;
    let mut missing = Vec::new();

    let operations = contract_operations();
    for line in &operations {
        let mut words = line.split_whitespace();
        let (Some(method), Some(path)) = (words.next(), words.next()) else {
            panic!("malformed line: {line}");
        };
        let responses = &document["paths"][path][method.to_lowercase()]["responses"];
        if !responses.is_object() {
            missing.push(format!("{method} {path}"));
            continue;
        }
        for code in words {
            if responses.get(code).is_none() {
                missing.push(format!("{method} {path} {code}"));
            }
        }
    }

    assert!(missing.is_empty(), "not documented: {missing:?}");
    let mut distinct: Vec<String> = operations
        .iter()
        .map(|line| {
            line.split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    distinct.sort();
    distinct.dedup();
    assert!(
        !operations.is_empty(),
        "contract-operations.txt lists nothing"
    );
    assert_eq!(
        distinct.len(),
        operations.len(),
        "an operation is listed twice"
    );
}

#[actix_web::test]
async fn the_extensions_are_documented_too() {
    let document = document().await;

    for path in ["/users/refresh", "/users/logout", "/users/logout-all"] {
        assert!(document["paths"][path]["post"].is_object(), "{path}");
    }
    let login = &document["paths"]["/users/login"]["post"]["responses"];
    assert!(login.get("429").is_some());
}

#[actix_web::test]
async fn request_bodies_name_the_schemas_that_validate_them() {
    let document = document().await;
    let schema = |path: &str, method: &str| {
        document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
            ["$ref"]
            .as_str()
            .map(str::to_owned)
    };

    assert_eq!(
        schema("/users", "post").as_deref(),
        Some("#/components/schemas/NewUserRequest")
    );
    assert_eq!(
        schema("/articles", "post").as_deref(),
        Some("#/components/schemas/NewArticleRequest")
    );
    assert_eq!(
        schema("/articles/{slug}/comments", "post").as_deref(),
        Some("#/components/schemas/NewCommentRequest")
    );
    let new_user = &document["components"]["schemas"]["NewUser"];
    assert_eq!(new_user["additionalProperties"], Value::Bool(false));
    assert_eq!(new_user["properties"]["username"]["maxLength"], 32);
}

/// `/docs` and `/docs/` lead to the page, and every asset the page names, resolved against the
/// page's own URL as a browser would, is served from the binary.
#[actix_web::test]
async fn the_docs_page_is_served_with_everything_it_needs_embedded() {
    let app = test::init_service(conduit_web::app(
        Ports::default().state().state,
        conduit_web::HttpSettings::default(),
    ))
    .await;
    let location = |headers: &actix_web::http::header::HeaderMap| {
        headers
            .get("location")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };

    let bare = test::call_service(&app, TestRequest::get().uri("/docs").to_request()).await;
    let slashed = test::call_service(&app, TestRequest::get().uri("/docs/").to_request()).await;
    let page_url = location(bare.headers()).expect("a redirect");
    let response = test::call_service(&app, TestRequest::get().uri(&page_url).to_request()).await;

    assert_eq!(
        (bare.status().as_u16(), slashed.status().as_u16()),
        (308, 308)
    );
    assert_eq!(
        location(slashed.headers()).as_deref(),
        Some(page_url.as_str())
    );
    assert_eq!(response.status().as_u16(), 200, "{page_url}");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let page = String::from_utf8_lossy(&test::read_body(response).await).into_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(page.contains("swagger-ui"), "{page}");
    assert!(!page.contains("src=\"http"), "no script from the network");
    let directory = page_url
        .rsplit_once('/')
        .map(|(directory, _)| directory)
        .expect("a path");
    let assets: Vec<String> = page
        .split(['"', '\''])
        .filter(|word| {
            [".css", ".js", ".png"]
                .iter()
                .any(|extension| word.ends_with(extension))
        })
        .map(|asset| format!("{directory}/{}", asset.trim_start_matches("./")))
        .collect();
    assert!(
        assets
            .iter()
            .any(|asset| asset.ends_with("swagger-initializer.js")),
        "{assets:?}"
    );
    for asset in &assets {
        let response = test::call_service(&app, TestRequest::get().uri(asset).to_request()).await;
        assert_eq!(
            response.status().as_u16(),
            200,
            "{asset}: the assets are in the binary"
        );
    }
}

/// The live-updates protocol is in the document's description, and docs/live.md says the same.
#[actix_web::test]
async fn the_live_protocol_is_described_in_the_document_and_docs_live_alike() {
    let document = document().await;
    let description = document["info"]["description"]
        .as_str()
        .expect("a description");
    let protocol = include_str!("../../src/live/protocol.md");
    let page = include_str!("../../../../docs/live.md");

    assert!(description.ends_with(protocol), "{description}");
    let body = protocol
        .split_once("\n\n")
        .map(|(_, body)| body)
        .expect("a heading and a body");
    assert!(
        page.contains(body),
        "docs/live.md differs from src/live/protocol.md"
    );
}
