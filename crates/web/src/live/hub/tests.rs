use conduit_domain::Timestamp;
use conduit_domain::articles::Slug;
use conduit_domain::live::{Delivery, Message};
use conduit_domain::profiles::Profile;

use super::*;

const JAKE: UserId = UserId(1);
const JANE: UserId = UserId(2);

fn hub(queue: usize, max_connections_per_user: usize) -> LiveHub {
    LiveHub::new(
        LiveSettings {
            queue,
            max_connections_per_user,
            ..LiveSettings::default()
        },
        EventId(10),
    )
}

fn favourite(id: i64, recipients: Vec<UserId>) -> (EventId, Dispatch) {
    let delivery = Delivery {
        id: EventId(id),
        at: Timestamp::from_offset(time::macros::datetime!(2026-01-01 12:00 UTC)),
        message: Message::ArticleFavorited {
            slug: Slug::parse("hello").expect("valid"),
            favorites_count: 1,
            profile: Profile {
                username: conduit_domain::accounts::Username::parse("jane").expect("valid"),
                bio: None,
                image: None,
                following: false,
            },
        },
    };
    (
        EventId(id),
        Dispatch::Deliver {
            recipients,
            delivery: Box::new(delivery),
        },
    )
}

#[test]
fn a_socket_goes_live_from_the_newest_event_handed_out() {
    let hub = hub(8, 8);
    let first = hub.join(JAKE, SessionId(1)).expect("joins");
    let (id, dispatch) = favourite(11, vec![JANE]);
    hub.hand_out(id, dispatch);
    let second = hub.join(JAKE, SessionId(1)).expect("joins");

    assert_eq!(
        (first.live_from, second.live_from),
        (EventId(10), EventId(11))
    );
}

#[test]
fn frames_reach_every_socket_of_the_recipients_and_no_other() {
    let hub = hub(8, 8);
    let mut phone = hub.join(JAKE, SessionId(1)).expect("joins");
    let mut laptop = hub.join(JAKE, SessionId(2)).expect("joins");
    let mut other = hub.join(JANE, SessionId(3)).expect("joins");

    let (id, dispatch) = favourite(11, vec![JAKE, UserId(99)]);
    hub.hand_out(id, dispatch);

    for socket in [&mut phone, &mut laptop] {
        let (_, frame) = socket.frames.try_recv().expect("a frame");
        let json: serde_json::Value = serde_json::from_str(&frame).expect("JSON");
        assert_eq!(json["type"], "article.favorited");
        assert_eq!(json["id"], "11");
    }
    assert!(other.frames.try_recv().is_err());
}

#[test]
fn a_socket_whose_queue_is_full_is_closed_as_slow_and_let_go() {
    let hub = hub(2, 8);
    let slow = hub.join(JAKE, SessionId(1)).expect("joins");

    for id in 11..=13 {
        let (id, dispatch) = favourite(id, vec![JAKE]);
        hub.hand_out(id, dispatch);
    }

    assert_eq!(*slow.closing.borrow(), Some(Closing::SlowConsumer));
    assert_eq!(hub.connections(), 0);
}

#[test]
fn a_user_may_hold_only_so_many_sockets() {
    let hub = hub(8, 2);
    let _first = hub.join(JAKE, SessionId(1)).expect("joins");
    let second = hub.join(JAKE, SessionId(1)).expect("joins");

    assert_eq!(hub.join(JAKE, SessionId(1)).err(), Some(Refusal::TooMany));
    assert!(hub.join(JANE, SessionId(2)).is_ok(), "per user");
    drop(second);
    assert!(
        hub.join(JAKE, SessionId(1)).is_ok(),
        "a closed socket frees its place"
    );
}

#[test]
fn an_ended_session_closes_its_sockets_only() {
    let hub = hub(8, 8);
    let ended = hub.join(JAKE, SessionId(1)).expect("joins");
    let other = hub.join(JAKE, SessionId(2)).expect("joins");

    hub.hand_out(EventId(11), Dispatch::EndSession(SessionId(1)));

    assert_eq!(*ended.closing.borrow(), Some(Closing::SessionEnded));
    assert_eq!(*other.closing.borrow(), None);
}

#[test]
fn shutting_down_closes_every_socket_and_refuses_new_ones() {
    let hub = hub(8, 8);
    let socket = hub.join(JAKE, SessionId(1)).expect("joins");

    hub.shut_down();

    assert_eq!(*socket.closing.borrow(), Some(Closing::Shutdown));
    assert!(*hub.stopping().borrow());
    assert_eq!(
        hub.join(JANE, SessionId(2)).err(),
        Some(Refusal::ShuttingDown)
    );
}

#[test]
fn leaving_counts_down() {
    let hub = hub(8, 8);
    let socket = hub.join(JAKE, SessionId(1)).expect("joins");
    assert_eq!(hub.connections(), 1);

    drop(socket);

    assert_eq!(hub.connections(), 0);
}

#[test]
fn a_socket_checked_before_its_session_ended_and_joining_after_is_refused() {
    let hub = hub(8, 8);
    // The session's end is handed out between the socket's check and its joining.
    hub.hand_out(EventId(11), Dispatch::EndSession(SessionId(7)));

    let late = hub.join(JAKE, SessionId(7)).map(drop);
    let other = hub.join(JAKE, SessionId(8)).map(drop);

    assert_eq!((late, other), (Err(Refusal::SessionEnded), Ok(())));
}

#[test]
fn an_unreadable_event_is_counted_and_the_fan_out_moves_past_it() {
    let hub = hub(8, 8);

    hub.hand_out(
        EventId(11),
        Dispatch::Unreadable {
            kind: "article.translated".to_owned(),
        },
    );
    let joined = hub.join(JAKE, SessionId(1)).expect("joins");

    assert_eq!(hub.counters().unreadable_events, 1);
    assert_eq!(joined.live_from, EventId(11));
}

fn stored(id: i64, change: conduit_domain::live::Change) -> StoredEvent {
    StoredEvent {
        id: EventId(id),
        at: Timestamp::from_offset(time::macros::datetime!(2026-01-01 12:00 UTC)),
        change,
    }
}

/// With no socket registered the fan-out reads nothing about the events (whose article, which
/// followers): it hands out what their rows say. A session's end is still remembered, so a
/// socket checked before it is refused at joining; an unreadable event is still counted; and a
/// socket that joins after goes live from the last of them.
#[test]
fn with_no_socket_the_events_are_passed_over_as_their_rows_say() {
    use conduit_domain::live::Change;
    let hub = hub(8, 8);
    let events = [
        stored(
            11,
            Change::ArticleCreated {
                article: conduit_domain::articles::ArticleId(1),
                slug: Slug::parse("hello").expect("valid"),
                author: JANE,
            },
        ),
        stored(
            12,
            Change::SessionEnded {
                session: SessionId(7),
            },
        ),
        stored(
            13,
            Change::Unreadable {
                kind: "article.translated".to_owned(),
            },
        ),
    ];

    assert!(hub.pass_over_unheard(&events));

    let late = hub.join(JAKE, SessionId(7)).map(drop);
    let joined = hub.join(JAKE, SessionId(8)).expect("joins");
    assert_eq!(late, Err(Refusal::SessionEnded));
    assert_eq!(joined.live_from, EventId(13));
    assert_eq!(hub.counters().unreadable_events, 1);
}

/// With a socket registered, nothing is passed over: the fan-out reads what the events need.
#[test]
fn with_a_socket_registered_nothing_is_passed_over() {
    let hub = hub(8, 8);
    let _joined = hub.join(JAKE, SessionId(1)).expect("joins");
    let ended = stored(
        11,
        conduit_domain::live::Change::SessionEnded {
            session: SessionId(7),
        },
    );

    assert!(!hub.pass_over_unheard(&[ended]));

    let later = hub.join(JAKE, SessionId(1)).expect("joins");
    assert_eq!(later.live_from, EventId(10), "nothing handed out");
}

/// The fan-out's read, with no socket registered: the events alone. The mocks of the articles,
/// comments and followers expect no call, and fail the test at one.
#[tokio::test]
async fn a_fan_out_with_no_socket_reads_only_the_events() {
    use conduit_domain::live::{Change, LivePorts};
    use conduit_domain::ports::{
        MockArticleRepository, MockClock, MockCommentRepository, MockEventLog,
        MockProfileRepository,
    };
    let mut log = MockEventLog::new();
    log.expect_after()
        .withf(|after, _| *after == EventId(10))
        .return_once(|_, _| {
            Ok(vec![stored(
                11,
                Change::ArticleCreated {
                    article: conduit_domain::articles::ArticleId(1),
                    slug: Slug::parse("hello").expect("valid"),
                    author: JANE,
                },
            )])
        });
    let live = Live::new(
        LivePorts {
            log: Arc::new(log),
            articles: Arc::new(MockArticleRepository::new()),
            comments: Arc::new(MockCommentRepository::new()),
            profiles: Arc::new(MockProfileRepository::new()),
            clock: Arc::new(MockClock::new()),
        },
        time::Duration::hours(24),
    );
    let hub = hub(8, 8);

    assert_eq!(hub.catch_up_once(&live).await, Ok(true));
    assert_eq!(hub.lock().last, EventId(11));
}
