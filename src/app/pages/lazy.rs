//! The signed-in pages as lazy routes: built with `cargo leptos build --split`, each page's code
//! leaves the main WASM bundle for a chunk of its own, fetched the first time the page is shown
//! (and before hydrating, when the page is the one the server rendered). The sign-in page and the
//! frame around the pages stay in the main bundle. Without `--split` they are ordinary routes.

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// A unit route type per page whose view is the page's component, under the page's own title.
macro_rules! lazy_pages {
    ($($(#[$doc:meta])* $route:ident => $page:path, $title:literal;)*) => {$(
        $(#[$doc])*
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                view! { <leptos_meta::Title text=concat!($title, " · Monay Webhooks")/> {$page()} }.into_any()
            }
        }
    )*};
}

lazy_pages! {
    /// `/`
    DashboardRoute => super::dashboard::Dashboard, "Dashboard";
    /// `/webhooks`
    WebhooksRoute => super::webhooks::WebhooksPage, "Webhooks";
    /// `/webhooks/new`
    NewWebhookRoute => super::webhooks::NewWebhookPage, "New webhook";
    /// `/webhooks/:id`
    WebhookRoute => super::webhook::WebhookPage, "Webhook";
    /// `/deliveries`
    DeliveriesRoute => super::deliveries::DeliveriesPage, "Deliveries";
    /// `/deliveries/:id`
    DeliveryRoute => super::deliveries::DeliveryPage, "Delivery";
    /// `/events`
    EventsRoute => super::events::EventsPage, "Events";
    /// `/events/:id`
    EventRoute => super::events::EventPage, "Event";
    /// `/event-types`
    CatalogRoute => super::admin::CatalogPage, "Event catalog";
    /// `/keys`
    KeysRoute => super::admin::KeysPage, "API keys";
    /// `/audit`
    AuditRoute => super::admin::AuditPage, "Audit log";
}
