//! The signed-in pages as lazy routes, one per area of the console: built with `cargo leptos build
//! --split`, each area's code leaves the main WASM bundle for chunks of its own, fetched the first
//! time one of its pages is shown (and, for the page the server rendered, preloaded by the page
//! itself, before hydrating). The sign-in page and the frame around the pages stay in the main
//! bundle. Without `--split` they are ordinary routes.
//!
//! Four areas rather than a route each: the splitter makes a chunk for every set of split points
//! that share code, so eleven split points made ~190 small chunks, and a deep link fetched over a
//! hundred of them; with four (and the webhook page's edit form) a page fetches about a dozen.

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// A page of an area, chosen by the path it was reached at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    Dashboard,
    Webhooks,
    NewWebhook,
    Webhook,
    Deliveries,
    Delivery,
    Events,
    Event,
    Catalog,
    Keys,
    Audit,
}

impl Page {
    /// The page a console path shows (`None`: not a page of an area).
    pub fn of(path: &str) -> Option<Page> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').filter(|p| !p.is_empty()).collect();
        Some(match parts.as_slice() {
            [] => Page::Dashboard,
            ["webhooks"] => Page::Webhooks,
            ["webhooks", "new"] => Page::NewWebhook,
            ["webhooks", _] => Page::Webhook,
            ["deliveries"] => Page::Deliveries,
            ["deliveries", _] => Page::Delivery,
            ["events"] => Page::Events,
            ["events", _] => Page::Event,
            ["event-types"] => Page::Catalog,
            ["keys"] => Page::Keys,
            ["audit"] => Page::Audit,
            _ => return None,
        })
    }

    /// The page's own title (the browser's tab).
    pub fn title(self) -> &'static str {
        match self {
            Page::Dashboard => "Dashboard · Monay Webhooks",
            Page::Webhooks => "Webhooks · Monay Webhooks",
            Page::NewWebhook => "New webhook · Monay Webhooks",
            Page::Webhook => "Webhook · Monay Webhooks",
            Page::Deliveries => "Deliveries · Monay Webhooks",
            Page::Delivery => "Delivery · Monay Webhooks",
            Page::Events => "Events · Monay Webhooks",
            Page::Event => "Event · Monay Webhooks",
            Page::Catalog => "Event catalog · Monay Webhooks",
            Page::Keys => "API keys · Monay Webhooks",
            Page::Audit => "Audit log · Monay Webhooks",
        }
    }
}

/// The page the router is showing now.
fn current() -> Page {
    Page::of(&leptos_router::hooks::use_location().pathname.get_untracked()).unwrap_or(Page::Dashboard)
}

/// The page under its own title.
fn titled(page: Page, view: AnyView) -> AnyView {
    view! { <leptos_meta::Title text=page.title()/> {view} }.into_any()
}

/// A unit route type per area whose view is the page the path names.
macro_rules! lazy_areas {
    ($($(#[$doc:meta])* $area:ident { $($page:ident => $component:path),* $(,)? })*) => {$(
        $(#[$doc])*
        pub struct $area(Page);

        #[lazy_route]
        impl LazyRoute for $area {
            fn data() -> Self {
                $area(current())
            }

            fn view(this: Self) -> AnyView {
                let page = this.0;
                let view = match page {
                    $(Page::$page => $component().into_any(),)*
                    #[allow(unreachable_patterns)]
                    _ => super::NotFound().into_any(),
                };
                titled(page, view)
            }
        }
    )*};
}

lazy_areas! {
    /// `/`
    DashboardArea { Dashboard => super::dashboard::Dashboard }
    /// `/webhooks`, `/webhooks/new`, `/webhooks/:id` (whose edit form is fetched when opened)
    WebhooksArea {
        Webhooks => super::webhooks::WebhooksPage,
        NewWebhook => super::webhooks::NewWebhookPage,
        Webhook => super::webhook::WebhookPage,
    }
    /// `/deliveries`, `/deliveries/:id`, `/events`, `/events/:id`
    LogArea {
        Deliveries => super::deliveries::DeliveriesPage,
        Delivery => super::deliveries::DeliveryPage,
        Events => super::events::EventsPage,
        Event => super::events::EventPage,
    }
    /// `/event-types`, `/keys`, `/audit`
    AdminArea {
        Catalog => super::admin::CatalogPage,
        Keys => super::admin::KeysPage,
        Audit => super::admin::AuditPage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_path_names_its_page() {
        assert_eq!(Page::of("/"), Some(Page::Dashboard));
        assert_eq!(Page::of("/webhooks"), Some(Page::Webhooks));
        assert_eq!(Page::of("/webhooks/new"), Some(Page::NewWebhook));
        assert_eq!(Page::of("/webhooks/wh_123/"), Some(Page::Webhook));
        assert_eq!(Page::of("/deliveries/dlv_1"), Some(Page::Delivery));
        assert_eq!(Page::of("/events"), Some(Page::Events));
        assert_eq!(Page::of("/event-types"), Some(Page::Catalog));
        assert_eq!(Page::of("/audit"), Some(Page::Audit));
        assert_eq!(Page::of("/webhooks/a/b"), None);
    }
}
