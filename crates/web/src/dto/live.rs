//! The frames of `GET /api/live`, as JSON text messages. Payloads use the contract's shapes:
//! an article as in lists (no `body`), a comment, a profile. Times are RFC 3339 with milliseconds.

use conduit_domain::live::{Delivery, EventId, Message};
use serde::{Deserialize, Serialize};

use crate::dto::articles::ArticleListItem;
use crate::dto::comments::Comment;
use crate::dto::profiles::Profile;

/// What the server sends.
#[derive(Debug, Serialize)]
#[serde(tag = "type")]
pub(crate) enum ServerFrame {
    /// Authenticated; live from this event id on (a replay, if asked for, comes first).
    #[serde(rename = "ready", rename_all = "camelCase")]
    Ready { last_event_id: String },
    /// The `since` asked for is older than the events kept, or not ours: reload.
    #[serde(rename = "reset")]
    Reset,
    #[serde(rename = "article.created")]
    ArticleCreated {
        id: String,
        at: String,
        article: ArticleListItem,
    },
    #[serde(rename = "comment.created")]
    CommentCreated {
        id: String,
        at: String,
        slug: String,
        comment: Comment,
    },
    #[serde(rename = "article.favorited", rename_all = "camelCase")]
    ArticleFavorited {
        id: String,
        at: String,
        slug: String,
        favorites_count: u64,
        profile: Profile,
    },
}

impl ServerFrame {
    pub(crate) fn ready(live_from: EventId) -> Self {
        Self::Ready {
            last_event_id: live_from.to_string(),
        }
    }

    /// The frame as the text message sent.
    pub(crate) fn to_text(&self) -> String {
        // Serialising these types cannot fail: string keys, no maps, no custom serialisers.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl From<Delivery> for ServerFrame {
    fn from(delivery: Delivery) -> Self {
        let id = delivery.id.to_string();
        let at = delivery.at.to_string();
        match delivery.message {
            Message::ArticleCreated { article } => Self::ArticleCreated {
                id,
                at,
                article: article.into(),
            },
            Message::CommentCreated { slug, comment } => Self::CommentCreated {
                id,
                at,
                slug: slug.to_string(),
                comment: comment.into(),
            },
            Message::ArticleFavorited {
                slug,
                favorites_count,
                profile,
            } => Self::ArticleFavorited {
                id,
                at,
                slug: slug.to_string(),
                favorites_count,
                profile: profile.into(),
            },
        }
    }
}

/// What a client may send: only the first message counts, when the upgrade carried no
/// `Authorization` header.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub(crate) enum ClientFrame {
    #[serde(rename = "auth")]
    Auth {
        token: String,
        #[serde(default)]
        since: Option<String>,
    },
}
