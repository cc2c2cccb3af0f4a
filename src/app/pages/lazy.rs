//! The signed-in pages as lazy routes: built with `cargo leptos build --split`, each page's code
//! leaves the main WASM bundle for a chunk of its own, fetched the first time the page is shown
//! (and before hydrating, when the page is the one the server rendered). The sign-in page and the
//! frame around the pages stay in the main bundle. Without `--split` they are ordinary routes.

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// A unit route type per page whose view is the page's component.
macro_rules! lazy_pages {
    ($($(#[$doc:meta])* $route:ident => $page:path;)*) => {$(
        $(#[$doc])*
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                $page().into_any()
            }
        }
    )*};
}

lazy_pages! {
    /// `/`
    DashboardRoute => super::dashboard::Dashboard;
    /// `/webhooks`
    WebhooksRoute => super::webhooks::WebhooksPage;
    /// `/webhooks/new`
    NewWebhookRoute => super::webhooks::NewWebhookPage;
    /// `/webhooks/:id`
    WebhookRoute => super::webhook::WebhookPage;
    /// `/deliveries`
    DeliveriesRoute => super::deliveries::DeliveriesPage;
    /// `/deliveries/:id`
    DeliveryRoute => super::deliveries::DeliveryPage;
    /// `/events`
    EventsRoute => super::events::EventsPage;
    /// `/events/:id`
    EventRoute => super::events::EventPage;
    /// `/event-types`
    CatalogRoute => super::admin::CatalogPage;
    /// `/keys`
    KeysRoute => super::admin::KeysPage;
    /// `/audit`
    AuditRoute => super::admin::AuditPage;
}
