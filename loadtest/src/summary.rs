//! The benchmark report: every figure next to its baseline, measured in the
//! same invocation, as a ratio — so a slow or busy machine slows both and
//! cannot fake a result. `target/loadtest/report.md` (the table) and
//! `report.svg` (ours vs baseline, one pair of bars per row).

use std::{fmt::Write as _, path::Path};

/// What a row's figure should reach.
#[derive(Clone, Copy, Debug)]
pub enum Goal {
    /// ours / baseline ≥ this (higher is better: a rate).
    RatioAtLeast(f64),
    /// ours ≥ this, in the row's unit (higher is better: a rate held to a
    /// limit, the baseline being that limit).
    AtLeast(f64),
    /// ours ≤ this, in the row's unit (lower is better: a latency).
    AtMost(f64),
    /// Both: ours ≤ `limit` in the row's unit and ours / baseline ≤ `ratio`
    /// (lower is better: a latency next to the least the same work costs).
    AtMostAndRatioAtMost { limit: f64, ratio: f64 },
}

/// One line of the report. Add a scenario by pushing another.
#[derive(Clone, Debug)]
pub struct Row {
    pub label: String,
    pub ours: f64,
    /// The same work with nothing in front of the database, when there is one.
    pub baseline: Option<f64>,
    pub unit: &'static str,
    pub goal: Goal,
    /// How the baseline was measured (a footnote).
    pub note: String,
}

impl Row {
    pub fn ratio(&self) -> Option<f64> {
        self.baseline.filter(|b| *b > 0.0).map(|b| self.ours / b)
    }

    pub fn met(&self) -> Option<bool> {
        match self.goal {
            Goal::RatioAtLeast(goal) => self.ratio().map(|r| r >= goal),
            Goal::AtMost(limit) => Some(self.ours <= limit),
            Goal::AtLeast(floor) => Some(self.ours >= floor),
            Goal::AtMostAndRatioAtMost { limit, ratio } => self.ratio().map(|r| self.ours <= limit && r <= ratio),
        }
    }
}

/// 1234.5 → "1,235"; small figures keep a decimal or two.
pub fn figure(x: f64) -> String {
    if x.abs() < 10.0 {
        return format!("{x:.2}");
    }
    if x.abs() < 100.0 {
        return format!("{x:.1}");
    }
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0.0 { format!("-{out}") } else { out }
}

fn goal_text(row: &Row) -> String {
    match row.goal {
        Goal::RatioAtLeast(goal) => format!("≥ {goal}×"),
        Goal::AtMost(limit) => format!("≤ {} {}", figure(limit), row.unit),
        Goal::AtLeast(floor) => format!("≥ {} {}", figure(floor), row.unit),
        Goal::AtMostAndRatioAtMost { limit, ratio } => format!("≤ {} {} and ≤ {ratio}×", figure(limit), row.unit),
    }
}

/// The markdown table.
pub fn markdown(rows: &[Row], heading: &str) -> String {
    let mut out =
        format!("{heading}\n\n| what | ours | baseline | ratio | goal | met |\n|---|---:|---:|---:|---:|:---:|\n");
    for row in rows {
        let baseline = row.baseline.map_or("—".to_owned(), figure);
        let ratio = row.ratio().map_or("—".to_owned(), |r| format!("{r:.2}×"));
        let met = match row.met() {
            Some(true) => "yes",
            Some(false) => "no",
            None => "—",
        };
        let _ = writeln!(
            out,
            "| {} ({}) | {} | {} | {} | {} | {} |",
            row.label,
            row.unit,
            figure(row.ours),
            baseline,
            ratio,
            goal_text(row),
            met
        );
    }
    let notes: Vec<_> = rows.iter().filter(|r| !r.note.is_empty()).collect();
    if !notes.is_empty() {
        out.push('\n');
        for row in notes {
            let _ = writeln!(out, "- {}: {}", row.label, row.note);
        }
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A bar chart by hand: per row, ours and the baseline as two horizontal
/// bars on the row's own scale (the rows' units differ), the ratio beside.
pub fn svg(rows: &[Row], title: &str) -> String {
    const WIDTH: f64 = 860.0;
    const LEFT: f64 = 300.0;
    const BAR_MAX: f64 = 400.0;
    const BAR: f64 = 18.0;
    const ROW: f64 = 64.0;
    let height = 60.0 + ROW * rows.len() as f64 + 30.0;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"13\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"24\" font-size=\"16\" font-weight=\"bold\">{}</text>\n\
         <rect x=\"{LEFT}\" y=\"36\" width=\"12\" height=\"12\" fill=\"#2b6cb0\"/>\
         <text x=\"{}\" y=\"47\">ours</text>\n\
         <rect x=\"{}\" y=\"36\" width=\"12\" height=\"12\" fill=\"#a0aec0\"/>\
         <text x=\"{}\" y=\"47\">baseline</text>\n",
        escape(title),
        LEFT + 16.0,
        LEFT + 70.0,
        LEFT + 86.0,
    );
    for (i, row) in rows.iter().enumerate() {
        let top = 60.0 + ROW * i as f64;
        let scale = row.ours.max(row.baseline.unwrap_or(0.0)).max(match row.goal {
            Goal::AtMost(limit) | Goal::AtLeast(limit) | Goal::AtMostAndRatioAtMost { limit, .. } => limit,
            Goal::RatioAtLeast(_) => 0.0,
        });
        let length = |x: f64| if scale > 0.0 { (x / scale * BAR_MAX).max(1.0) } else { 1.0 };
        let _ = writeln!(
            out,
            "<text x=\"10\" y=\"{}\">{}</text>\n<text x=\"10\" y=\"{}\" fill=\"#555\">{}</text>",
            top + 16.0,
            escape(&row.label),
            top + 34.0,
            escape(&format!("{} — goal {}", row.unit, goal_text(row))),
        );
        let _ = writeln!(
            out,
            "<rect x=\"{LEFT}\" y=\"{top}\" width=\"{:.1}\" height=\"{BAR}\" fill=\"#2b6cb0\"/>\
             <text x=\"{:.1}\" y=\"{}\">{}</text>",
            length(row.ours),
            LEFT + length(row.ours) + 6.0,
            top + 14.0,
            figure(row.ours),
        );
        match row.baseline {
            Some(baseline) => {
                let _ = writeln!(
                    out,
                    "<rect x=\"{LEFT}\" y=\"{}\" width=\"{:.1}\" height=\"{BAR}\" fill=\"#a0aec0\"/>\
                     <text x=\"{:.1}\" y=\"{}\">{}{}</text>",
                    top + BAR + 4.0,
                    length(baseline),
                    LEFT + length(baseline) + 6.0,
                    top + BAR + 18.0,
                    figure(baseline),
                    row.ratio().map_or(String::new(), |r| format!("  (ours {r:.2}×)")),
                );
            }
            None => {
                if let Goal::AtMost(limit) | Goal::AtMostAndRatioAtMost { limit, .. } = row.goal {
                    let x = LEFT + length(limit);
                    let _ = writeln!(
                        out,
                        "<line x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#c53030\" \
                         stroke-dasharray=\"4 3\"/><text x=\"{:.1}\" y=\"{}\" fill=\"#c53030\">goal</text>",
                        top - 2.0,
                        top + 2.0 * BAR + 4.0,
                        x + 4.0,
                        top + BAR + 18.0,
                    );
                }
            }
        }
    }
    out.push_str("</svg>\n");
    out
}

/// Writes `report.md` and `report.svg` into `dir`.
pub fn write(dir: &Path, rows: &[Row], heading: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("report.md"), markdown(rows, heading))?;
    std::fs::write(dir.join("report.svg"), svg(rows, "Just Book Me: ours vs baseline, same run"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Row> {
        vec![
            Row {
                label: "bookings/s SQLite".into(),
                ours: 784.0,
                baseline: Some(1775.0),
                unit: "bookings/s",
                goal: Goal::RatioAtLeast(0.8),
                note: String::new(),
            },
            Row {
                label: "storm p99".into(),
                ours: 42.0,
                baseline: None,
                unit: "ms",
                goal: Goal::AtMost(100.0),
                note: "1,000 racers".into(),
            },
            Row {
                label: "push p99".into(),
                ours: 60.0,
                baseline: Some(30.0),
                unit: "ms",
                goal: Goal::AtMostAndRatioAtMost { limit: 50.0, ratio: 1.5 },
                note: String::new(),
            },
        ]
    }

    #[test]
    fn the_table_shows_ratio_and_goal() {
        let table = markdown(&rows(), "# Report");
        assert!(table.contains("| bookings/s SQLite (bookings/s) | 784 | 1,775 | 0.44× | ≥ 0.8× | no |"), "{table}");
        assert!(table.contains("| storm p99 (ms) | 42.0 | — | — | ≤ 100 ms | yes |"), "{table}");
        assert!(table.contains("| push p99 (ms) | 60.0 | 30.0 | 2.00× | ≤ 50.0 ms and ≤ 1.5× | no |"), "{table}");
    }

    #[test]
    fn the_chart_is_one_svg_with_a_bar_per_figure() {
        let chart = svg(&rows(), "t");
        assert!(chart.starts_with("<svg") && chart.ends_with("</svg>\n"));
        assert_eq!(chart.matches("fill=\"#2b6cb0\"/>").count(), 4, "legend + three rows");
    }
}
