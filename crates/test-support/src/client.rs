//! One client for every test that speaks to Conduit over HTTP, in-process or over the network.
//!
//! A harness implements [`Conduit`] once, by saying how one [`Call`] is sent (the web tests send it
//! to the app in-process, the end-to-end tests and the rehearsal over TCP with reqwest). Everything
//! a test does as a user is then written here, once:
//!
//! ```ignore
//! let jake = app.register("jake").await;
//! let slug = jake.publish("How to train your dragon", &["dragons"]).await;
//! let reply = app.call(Call::get(format!("/api/articles/{slug}"))).await;
//! assert_eq!(reply.status, 200);
//! ```

use serde_json::{Value, json};

/// The password of every user [`Conduit::register`] registers.
pub const PASSWORD: &str = "correct horse battery";

/// The HTTP methods the API has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
        }
    }
}

/// One request, as a test writes it: a method, a path, and optionally a token, a JSON body and
/// headers of its own.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    pub path: String,
    pub token: Option<String>,
    pub body: Option<Value>,
    pub headers: Vec<(String, String)>,
}

impl Call {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            token: None,
            body: None,
            headers: Vec::new(),
        }
    }

    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::Get, path)
    }

    pub fn post(path: impl Into<String>, body: Value) -> Self {
        Self::new(Method::Post, path).json(body)
    }

    pub fn put(path: impl Into<String>, body: Value) -> Self {
        Self::new(Method::Put, path).json(body)
    }

    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::Delete, path)
    }

    /// With `Authorization: Token <token>`.
    #[must_use]
    pub fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// With this JSON body.
    #[must_use]
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// With this header too.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// The answer to one [`Call`], as a client sees it. The body is JSON whatever the status (no
/// handler and no error path may answer otherwise), or `null` for a 204, which has none.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// Names in lower case, as HTTP/2 and both harnesses give them.
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Reply {
    /// The first value of the header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body, once the status is `status`.
    ///
    /// # Panics
    /// With the status and the body, when the status is another.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.body);
        self.body
    }

    /// The body, once the status is `status`, for a caller that reports rather than panics.
    ///
    /// # Errors
    /// The status that came instead, with the body.
    pub fn expected(self, status: u16) -> Result<Value, String> {
        if self.status == status {
            Ok(self.body)
        } else {
            Err(format!(
                "expected {status}, got {} {}",
                self.status, self.body
            ))
        }
    }

    /// Reads a reply's parts, its headers as the HTTP library gives them; `Err` says why it is
    /// no reply a client of Conduit can take.
    ///
    /// # Errors
    /// When a 204 has a body, or another status has a body that is not JSON.
    pub fn read<'h>(
        status: u16,
        headers: impl IntoIterator<Item = (&'h str, &'h [u8])>,
        body: &[u8],
    ) -> Result<Self, String> {
        let headers: Vec<(String, String)> = headers
            .into_iter()
            .map(|(name, value)| {
                (
                    name.to_ascii_lowercase(),
                    String::from_utf8_lossy(value).into_owned(),
                )
            })
            .collect();
        if status == 204 {
            if !body.is_empty() {
                return Err("a 204 has no body".to_owned());
            }
            return Ok(Self {
                status,
                headers,
                body: Value::Null,
            });
        }
        let content_type = headers
            .iter()
            .find(|(name, _)| name == "content-type")
            .map(|(_, value)| value.as_str())
            .unwrap_or_default();
        if !content_type.starts_with("application/json") {
            return Err(format!(
                "status {status}: expected JSON, got {content_type:?}: {}",
                String::from_utf8_lossy(body)
            ));
        }
        let body = serde_json::from_slice(body)
            .map_err(|error| format!("status {status}: the body is no JSON: {error}"))?;
        Ok(Self {
            status,
            headers,
            body,
        })
    }
}

/// A Conduit server, as a test talks to it. Implement [`Conduit::try_call`]; the rest is written
/// once, here. Its futures are `Send` where the harness's are: the in-process app's are not.
#[allow(async_fn_in_trait)] // Only tests implement and call it; no caller needs to name `Send`.
pub trait Conduit {
    /// Sends `call` and reads its answer.
    ///
    /// # Errors
    /// When no answer came, or it is no answer Conduit may give (see [`Reply::read`]).
    async fn try_call(&self, call: Call) -> Result<Reply, String>;

    /// Where a socket reaches this server (`http://host:port`), if it listens on one.
    fn address(&self) -> Option<&str> {
        None
    }

    /// [`Conduit::try_call`], for a test.
    ///
    /// # Panics
    /// When no readable answer came.
    async fn call(&self, call: Call) -> Reply {
        let what = format!("{} {}", call.method.as_str(), call.path);
        match self.try_call(call).await {
            Ok(reply) => reply,
            Err(error) => panic!("{what}: {error}"),
        }
    }

    /// [`Conduit::try_call`], expecting `status`: the body, for a caller that reports rather than
    /// panics (the rehearsal and the benchmarks).
    ///
    /// # Errors
    /// What went wrong, after the call's method and path.
    async fn try_expect(&self, status: u16, call: Call) -> Result<Value, String> {
        let what = format!("{} {}", call.method.as_str(), call.path);
        self.try_call(call)
            .await
            .and_then(|reply| reply.expected(status))
            .map_err(|error| format!("{what}: {error}"))
    }

    /// Registers `username` (e-mail `<username>@example.com`, password [`PASSWORD`]).
    ///
    /// # Panics
    /// When the registration is not a 201.
    async fn register(&self, username: &str) -> TestUser<'_, Self>
    where
        Self: Sized,
    {
        let body = self
            .call(Call::post("/api/users", registration(username)))
            .await
            .expect(201);
        TestUser::signed_in(self, &body)
    }

    /// Logs in with these credentials; the answer, whatever it is.
    async fn login(&self, email: &str, password: &str) -> Reply {
        self.call(Call::post(
            "/api/users/login",
            json!({"user": {"email": email, "password": password}}),
        ))
        .await
    }

    /// Swaps a refresh token (any JSON value, to send malformed ones too); the answer, whatever it is.
    async fn refresh(&self, refresh_token: &Value) -> Reply {
        self.call(Call::post(
            "/api/users/refresh",
            json!({"refreshToken": refresh_token}),
        ))
        .await
    }
}

/// The body of a registration of `username`, e-mail `<username>@example.com`, password [`PASSWORD`].
pub fn registration(username: &str) -> Value {
    json!({"user": {
        "username": username, "email": format!("{username}@example.com"), "password": PASSWORD,
    }})
}

/// A signed-in user of the app under test, carrying its requests.
#[derive(Debug, Clone)]
pub struct TestUser<'a, C> {
    pub app: &'a C,
    pub username: String,
    pub email: String,
    pub token: String,
    pub refresh_token: String,
}

impl<'a, C: Conduit> TestUser<'a, C> {
    /// The user of a registration's or a login's answer.
    ///
    /// # Panics
    /// When `body` is not a `user` with a token and a refresh token.
    pub fn signed_in(app: &'a C, body: &Value) -> Self {
        let field = |name: &str| {
            body["user"][name]
                .as_str()
                .unwrap_or_else(|| panic!("no {name} in {body}"))
                .to_owned()
        };
        Self {
            app,
            username: field("username"),
            email: field("email"),
            token: field("token"),
            refresh_token: field("refreshToken"),
        }
    }

    /// The same user, signed in the same session, acting through `app` (another instance on the
    /// same database).
    pub fn through<'b>(&self, app: &'b C) -> TestUser<'b, C> {
        TestUser {
            app,
            username: self.username.clone(),
            email: self.email.clone(),
            token: self.token.clone(),
            refresh_token: self.refresh_token.clone(),
        }
    }

    /// `call`, with this user's token.
    pub async fn call(&self, call: Call) -> Reply {
        self.app.call(call.token(&self.token)).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Call::get(path)).await
    }

    /// Publishes an article and answers its slug.
    ///
    /// # Panics
    /// When the answer is not a 201 with a slug.
    pub async fn publish(&self, title: &str, tags: &[&str]) -> String {
        let body = self
            .call(Call::post(
                "/api/articles",
                json!({"article": {
                    "title": title, "description": "About it", "body": "Text", "tagList": tags,
                }}),
            ))
            .await
            .expect(201);
        body["article"]["slug"]
            .as_str()
            .unwrap_or_else(|| panic!("no slug in {body}"))
            .to_owned()
    }

    /// Follows `username`.
    ///
    /// # Panics
    /// When the answer is not a 200 saying so.
    pub async fn follow(&self, username: &str) {
        let body = self
            .call(Call::new(
                Method::Post,
                format!("/api/profiles/{username}/follow"),
            ))
            .await
            .expect(200);
        assert_eq!(body["profile"]["following"], true, "{body}");
    }

    /// Favourites the article `slug` and answers the article.
    ///
    /// # Panics
    /// When the answer is not a 200 saying so.
    pub async fn favorite(&self, slug: &str) -> Value {
        let body = self
            .call(Call::new(
                Method::Post,
                format!("/api/articles/{slug}/favorite"),
            ))
            .await
            .expect(200);
        assert_eq!(body["article"]["favorited"], true, "{body}");
        body
    }

    /// Comments on the article `slug` and answers the comment's id.
    ///
    /// # Panics
    /// When the answer is not a 201 with an id.
    pub async fn comment(&self, slug: &str, text: &str) -> i64 {
        let body = self
            .call(Call::post(
                format!("/api/articles/{slug}/comments"),
                json!({"comment": {"body": text}}),
            ))
            .await
            .expect(201);
        body["comment"]["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no id in {body}"))
    }

    /// Swaps the refresh token for a new pair, which this user holds from then on.
    ///
    /// # Panics
    /// When the answer is not a 200 with a new pair.
    pub async fn refresh(&mut self) {
        let body = self
            .app
            .refresh(&Value::from(self.refresh_token.as_str()))
            .await
            .expect(200);
        *self = Self::signed_in(self.app, &body);
    }

    /// Ends this user's session.
    ///
    /// # Panics
    /// When the answer is not a 204.
    pub async fn logout(&self) {
        self.call(Call::new(Method::Post, "/api/users/logout"))
            .await
            .expect(204);
    }
}

#[cfg(feature = "live")]
impl<C: Conduit> TestUser<'_, C> {
    /// A live socket of this user's, authenticated by its header, with this query (`?since=3`, or
    /// empty).
    ///
    /// # Panics
    /// When the app listens on no address, or the upgrade is refused.
    pub async fn live(&self, query: &str) -> crate::live::LiveClient {
        let address = self
            .app
            .address()
            .expect("a live socket needs a server that listens");
        crate::live::LiveClient::connect_as(address, &self.token, query).await
    }
}

/// The slugs of an article list's answer, in its order.
///
/// # Panics
/// When `body` is no list of articles.
pub fn slugs(body: &Value) -> Vec<String> {
    body["articles"]
        .as_array()
        .unwrap_or_else(|| panic!("no articles in {body}"))
        .iter()
        .filter_map(|article| article["slug"].as_str().map(str::to_owned))
        .collect()
}

/// [`Conduit`] over the network: a server at `address` (`http://host:port`), through reqwest.
#[cfg(feature = "http")]
#[derive(Debug, Clone)]
pub struct HttpConduit {
    pub address: String,
    pub client: reqwest::Client,
}

#[cfg(feature = "http")]
impl HttpConduit {
    /// A client of the server at `address`.
    pub fn new(address: impl Into<String>) -> Self {
        Self {
            address: address.into(),
            client: reqwest::Client::new(),
        }
    }
}

#[cfg(feature = "http")]
impl Conduit for HttpConduit {
    fn address(&self) -> Option<&str> {
        Some(&self.address)
    }

    async fn try_call(&self, call: Call) -> Result<Reply, String> {
        let method = reqwest::Method::from_bytes(call.method.as_str().as_bytes())
            .map_err(|error| error.to_string())?;
        let mut request = self
            .client
            .request(method, format!("{}{}", self.address, call.path));
        if let Some(token) = &call.token {
            request = request.header("authorization", format!("Token {token}"));
        }
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        for (name, value) in &call.headers {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|error| with_causes(&error))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|error| with_causes(&error))?;
        let headers = headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()));
        Reply::read(status, headers, &body)
    }
}

/// An error and its causes, `: `-separated: reqwest's own text ("error sending request") says
/// little without them (connection refused, reset, timed out).
#[cfg(feature = "http")]
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(now) = cause {
        text.push_str(": ");
        text.push_str(&now.to_string());
        cause = now.source();
    }
    text
}
