//! Signed webhooks for organisations' API clients (SPEC "Webhooks", issue #35).
//!
//! - `sign`: Standard Webhooks 1.0 signatures and the secrets sealed at rest (pure but for
//!   randomness).
//! - `target`: which URLs and addresses a delivery may go to, and the resolver that enforces
//!   it at delivery time.
//!
//! Both are libraries below the service: they use no other module of the crate. The delivery
//! worker (claims with a lease, posts, retries, records, disables an endpoint that keeps
//! failing and tells its organisation) is a background job, `notify::webhooks`.
//!
//! Deliveries are queued with the event that causes them (`db::webhooks::queue_for_event`,
//! from `db::transition`), so the API, the pages and anything else that applies an event
//! through `service::events` or files through `service::filing` produce them. The
//! registration, listing and rotation are `service::webhooks`; the routes `api::webhooks`.

pub mod sign;
pub mod target;
