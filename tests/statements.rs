//! Each list request runs a constant number of SQL statements, whatever the page size: no N+1;
//! and the requests on every page of a client run as few as they can.
//!
//! sqlx reports every statement it runs as a `tracing` event with the target `sqlx::query`; a
//! global subscriber counts them around each request. The server's own logging never shows these
//! events (they carry SQL text); this counter sees only that they happened, and only those run in
//! a request's span.

use std::sync::{Arc, Mutex};

use reqwest::Method;
use serde_json::json;
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

use conduit_e2e::{Conduit, TestApp, TestUser};

/// The summaries (`SELECT a.id, …`) of the statements sqlx has run, in order.
#[derive(Clone, Default)]
struct StatementCounter(Arc<Mutex<Vec<String>>>);

/// Reads the `summary` field of a `sqlx::query` event.
#[derive(Default)]
struct Summary(String);

impl tracing::field::Visit for Summary {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "summary" {
            value.clone_into(&mut self.0);
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "summary" {
            self.0 = format!("{value:?}");
        }
    }
}

impl<S> Layer<S> for StatementCounter
where
    S: Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    fn on_event(&self, event: &tracing::Event<'_>, context: Context<'_, S>) {
        // Only a request's own statements: not those of work beside it (the live fan-out).
        let in_a_request = context
            .event_scope(event)
            .is_some_and(|mut scope| scope.any(|span| span.name() == "HTTP request"));
        if in_a_request && event.metadata().target() == "sqlx::query" {
            let mut summary = Summary::default();
            event.record(&mut summary);
            self.statements().push(summary.0);
        }
    }
}

impl StatementCounter {
    fn install() -> Self {
        let counter = Self::default();
        tracing::subscriber::set_global_default(
            tracing_subscriber::registry().with(counter.clone()),
        )
        .expect("no other subscriber is installed in this binary");
        counter
    }

    fn statements(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The statements run while `request` is answered, but for the set-up of a new connection
    /// (SQLite's `PRAGMA`s), which the pool may do on any request.
    async fn during(&self, app: &TestApp, path: &str, token: Option<&str>) -> Vec<String> {
        self.during_request(app, Method::GET, path, token).await
    }

    /// [`Self::during`] for any method.
    async fn during_request(
        &self,
        app: &TestApp,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> Vec<String> {
        let (status, body, statements) = self.during_send(app, method, path, token, None).await;
        assert_eq!(status, 200, "{path}: {body}");
        statements
    }

    /// The answer to a request with `body`, and [`Self::during`]'s statements.
    async fn during_send(
        &self,
        app: &TestApp,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value, Vec<String>) {
        let before = self.statements().len();
        let (status, body) = app.send(method, path, token, body).await;
        let statements = self.statements()[before..]
            .iter()
            .filter(|summary| !summary.starts_with("PRAGMA"))
            .cloned()
            .collect();
        (status, body, statements)
    }
}

/// A new article is one statement on PostgreSQL, its session check included: a token whose
/// session has ended is refused by that statement, which then writes nothing.
#[tokio::test]
async fn a_new_article_is_one_statement_with_its_session_check() {
    let counter = StatementCounter::install();
    let app = TestApp::on_postgres().await;
    let author = app.register("author").await;
    let article = |title: &str| {
        Some(
            json!({"article": {"title": title, "description": "d", "body": "b", "tagList": ["one"]}}),
        )
    };

    let (created, _, written) = counter
        .during_send(
            &app,
            Method::POST,
            "/api/articles",
            Some(&author.token),
            article("Kept"),
        )
        .await;
    let (logged_out, _, _) = counter
        .during_send(
            &app,
            Method::POST,
            "/api/users/logout",
            Some(&author.token),
            None,
        )
        .await;
    let (refused, error, refusal) = counter
        .during_send(
            &app,
            Method::POST,
            "/api/articles",
            Some(&author.token),
            article("Late"),
        )
        .await;
    let (_, found, _) = counter
        .during_send(&app, Method::GET, "/api/articles/late", None, None)
        .await;

    assert_eq!((created, logged_out), (201, 204));
    assert_eq!(written.len(), 1, "{written:?}");
    assert!(written[0].starts_with("WITH article"), "{written:?}");
    assert_eq!(refused, 401, "{error}");
    assert_eq!(refusal.len(), 1, "{refusal:?}");
    assert!(refusal[0].starts_with("WITH article"), "{refusal:?}");
    assert_eq!(found["errors"]["article"], json!(["not found"]), "{found}");
}

#[tokio::test]
async fn list_requests_run_as_many_statements_for_one_article_as_for_twenty() {
    let counter = StatementCounter::install();
    for (store, app) in [
        ("SQLite", TestApp::on_sqlite().await),
        ("PostgreSQL", TestApp::on_postgres().await),
    ] {
        let TestUser {
            token: author,
            username: author_name,
            ..
        } = app.register("author").await;
        let TestUser { token: reader, .. } = app.register("reader").await;
        app.send(
            Method::POST,
            &format!("/api/profiles/{author_name}/follow"),
            Some(&reader),
            None,
        )
        .await;
        for n in 0..25 {
            let (_, created) = app
                .send(
                    Method::POST,
                    "/api/articles",
                    Some(&author),
                    Some(json!({"article": {
                        "title": format!("Article {n}"), "description": "d", "body": "b",
                        "tagList": ["common", format!("tag{n}")]
                    }})),
                )
                .await;
            let slug = created["article"]["slug"]
                .as_str()
                .expect("a slug")
                .to_owned();
            app.send(
                Method::POST,
                &format!("/api/articles/{slug}/favorite"),
                Some(&reader),
                None,
            )
            .await;
        }
        let reader_name = {
            let (_, me) = app
                .send(Method::GET, "/api/user", Some(&reader), None)
                .await;
            me["user"]["username"]
                .as_str()
                .expect("a username")
                .to_owned()
        };

        for (list, token) in [
            ("/api/articles", None),
            ("/api/articles", Some(reader.as_str())),
            ("/api/articles?tag=common", Some(reader.as_str())),
            (&format!("/api/articles?author={author_name}") as &str, None),
            (
                &format!("/api/articles?favorited={reader_name}&tag=common") as &str,
                None,
            ),
            ("/api/articles/feed", Some(reader.as_str())),
        ] {
            let separator = if list.contains('?') { '&' } else { '?' };
            let one = counter
                .during(&app, &format!("{list}{separator}limit=1"), token)
                .await;
            let twenty = counter
                .during(&app, &format!("{list}{separator}limit=20"), token)
                .await;
            eprintln!(
                "{store}: GET {list}: {} statements for 1 article, {} for 20",
                one.len(),
                twenty.len()
            );
            assert_eq!(
                one.len(),
                twenty.len(),
                "{store}: GET {list} grows with the page size: {one:?} then {twenty:?}"
            );
            // A request with a token first checks that its session is live: one lookup.
            let expected = if token.is_some() { 3 } else { 2 };
            assert_eq!(
                twenty.len(),
                expected,
                "{store}: GET {list} runs the session check (with a token), the page and the \
                 count, nothing else: {twenty:?}"
            );
            if token.is_some() {
                assert!(
                    twenty[0].starts_with("SELECT user_id FROM sessions"),
                    "{twenty:?}"
                );
            }
        }
    }
}

/// `GET /api/user` reads the user with its session check, and a favourite is written and read
/// back in one statement on PostgreSQL (on SQLite, which has no `INSERT` in `WITH`, two in one
/// transaction).
#[tokio::test]
async fn the_current_user_is_one_statement_and_a_favourite_one_more_than_the_session_check() {
    let counter = StatementCounter::install();
    let app = TestApp::on_postgres().await;
    let TestUser { token: author, .. } = app.register("author").await;
    let TestUser { token: reader, .. } = app.register("reader").await;
    let (_, created) = app
        .send(
            Method::POST,
            "/api/articles",
            Some(&author),
            Some(json!({"article": {"title": "Liked", "description": "d", "body": "b"}})),
        )
        .await;
    let slug = created["article"]["slug"].as_str().expect("a slug");

    let me = counter.during(&app, "/api/user", Some(&reader)).await;
    let favourite = format!("/api/articles/{slug}/favorite");
    let given = counter
        .during_request(&app, Method::POST, &favourite, Some(&reader))
        .await;
    let taken = counter
        .during_request(&app, Method::DELETE, &favourite, Some(&reader))
        .await;

    assert_eq!(
        me.len(),
        1,
        "the session check and the user together: {me:?}"
    );
    assert!(me[0].starts_with("SELECT u.id"), "{me:?}");
    for statements in [&given, &taken] {
        assert_eq!(statements.len(), 2, "{statements:?}");
        assert!(
            statements[0].starts_with("SELECT user_id FROM sessions"),
            "{statements:?}"
        );
        assert!(statements[1].starts_with("WITH changed"), "{statements:?}");
    }
}
