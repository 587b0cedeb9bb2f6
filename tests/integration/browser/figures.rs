//! The Figures tab in the browser (issue 13): numbers and SVG bar charts of
//! the provider's past weeks, in the light and the dark theme.

use jiff::{Timestamp, ToSpan, tz::TimeZone};
use serde_json::json;

use super::{Launch, TelegramPhone, TgUser, Theme};
use crate::helpers::{Backend, TestApp, every_day, happened, spawn_app};

const SLUG: &str = "mila-nails";
const PROVIDER_TG_ID: i64 = 9500;

/// Three visits of the last weeks (moved into the past in the database, as
/// if their time had come): two completed, one no-show.
async fn a_few_past_weeks(app: &TestApp) -> String {
    let profile = json!({ "display_name": "Mila", "min_notice_min": 0 });
    let (mila, _) = app.provider(PROVIDER_TG_ID, SLUG, profile, every_day("09:00", "18:00")).await;
    let priced = json!({ "name": "Manicure", "duration_min": 60, "price_minor": 3500, "currency": "EUR" });
    let service = app.request("POST", "/api/provider/services", Some(&mila), Some(priced)).await;
    let service = service.ok()["id"].as_str().expect("id").to_owned();
    let client = app.dev_sign_in(9501, "Nina").await;
    let berlin = TimeZone::get("Europe/Berlin").expect("zone");
    let tomorrow = berlin.to_datetime(Timestamp::now()).date().checked_add(1.day()).expect("a date");
    for (hour, days_back, status) in [("10", 8, "completed"), ("14", 15, "completed"), ("11", 22, "no_show")] {
        let start = format!("{tomorrow}T{hour}:00:00+01:00");
        let booked = app.book(&client, SLUG, &service, &start).await;
        happened(app, Backend::Sqlite, booked.ok()["id"].as_str().expect("id"), days_back, status).await;
    }
    mila
}

#[actix_web::test]
async fn the_figures_tab_draws_the_past_weeks_in_both_themes() {
    let app = spawn_app(Backend::Sqlite).await;
    let mila = a_few_past_weeks(&app).await;
    let figures = app.get("/api/provider/stats", Some(&mila)).await;
    let weeks = figures.ok()["by_week"].as_array().expect("weeks").len();

    for (theme, name) in [(Theme::LIGHT, "light"), (Theme::DARK, "dark")] {
        let user = TgUser::new(PROVIDER_TG_ID, "Mila");
        let Some(phone) = TelegramPhone::open(&app, user, theme, Launch::Menu).await else { return };
        phone.click("#workspace").await;
        phone.click("[data-tab=\"stats\"]").await;
        phone.wait_for("#stats-bookings").await;
        assert_eq!(phone.text("#stats-bookings .tile-value").await, "3");
        assert_eq!(phone.text("#stats-no-show-rate .tile-value").await, "33%");
        assert!(phone.text("#stats-revenue .tile-value").await.contains("105"), "3 × 35 EUR booked");
        let bars = phone.eval("return document.querySelectorAll('#chart-weeks rect.bar').length").await;
        assert_eq!(bars.as_u64(), Some(weeks as u64), "one bar a week");
        let drawn = phone.eval("return [...document.querySelectorAll('#chart-weeks rect.bar')].filter((r) => r.getAttribute('height') > 0).length").await;
        assert_eq!(drawn.as_u64(), Some(3), "three weeks with a visit");
        // The bars take the theme's button colour.
        let fill = phone.eval("return getComputedStyle(document.querySelector('#chart-weeks rect.bar')).fill").await;
        let button = phone
            .eval("return getComputedStyle(document.querySelector('.tab[aria-selected=true]')).backgroundColor")
            .await;
        assert_eq!(fill, button, "{name}");
        phone.screenshot(&format!("provider-figures-{name}")).await;
        phone.check_screen().await;
        phone.close().await;
    }
}
