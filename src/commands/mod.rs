//! The platform-neutral command layer: what `/hot`, `/paper`, `/subscribe`, ... do, written
//! once for every front end.
//!
//! The layers follow mini-redis: parsing is separate from effects, and effects from rendering.
//!
//! 1. [`request`]: a front end turns user input into a typed, validated [`Request`] (bad times,
//!    zones, categories and counts are refused here with a message that names the value and
//!    shows an example) and says who asked ([`Invoker`]).
//! 2. [`handlers`]: [`handle`] runs it against the [`crate::app::App`] and returns a [`Reply`];
//!    it never fails or panics, and checks admin rights on the server side.
//! 3. [`reply`]: the answer as data, free of Discord and terminal types.
//! 4. A front end renders it: [`console`] as plain text (`hotpapers console`); the Discord
//!    front end as embeds.
//!

pub mod console;
pub mod handlers;
pub mod reply;
pub mod request;

pub use handlers::handle;
pub use reply::Reply;
pub use request::{HotView, Invoker, Request, RequestError, SubscribeArgs};
