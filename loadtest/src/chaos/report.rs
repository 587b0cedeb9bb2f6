//! One table row per phase.

pub(super) struct Row {
    pub(super) phase: String,
    pub(super) counters: [u64; 8],
    pub(super) acknowledged: usize,
    pub(super) found: usize,
    pub(super) missing: usize,
    pub(super) unacknowledged: usize,
    pub(super) overlaps: String,
    pub(super) messages: u64,
    pub(super) reminders: u64,
    pub(super) duplicates: u64,
    pub(super) duplicate_reminders: u64,
    pub(super) resume: Option<f64>,
    pub(super) recovered: String,
}

pub(super) fn header() -> String {
    "| phase | acked | found | acked, missing | found, not acked | overlaps | messages (reminders) | duplicate \
     messages (reminders) | 2xx | 409/422 | 503 | 5xx ≠ 503 | no answer in 10 s | refused | slowest answer | push \
     resume | recovered by itself |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
        .to_owned()
}

impl Row {
    pub(super) fn print(&self) -> String {
        let [ok, conflict, unavailable, other_5xx, _other_4xx, hung, refused, slowest] = self.counters;
        let resume = self.resume.map_or("no push".to_owned(), |s| format!("{s:.2} s"));
        format!(
            "| {} | {} | {} | {} | {} | {} | {} ({}) | {} ({}) | {ok} | {conflict} | {unavailable} | {other_5xx} | \
             {hung} | {refused} | {:.2} s | {resume} | {} |",
            self.phase,
            self.acknowledged,
            self.found,
            self.missing,
            self.unacknowledged,
            self.overlaps,
            self.messages,
            self.reminders,
            self.duplicates,
            self.duplicate_reminders,
            slowest as f64 / 1000.0,
            self.recovered
        )
    }
}
