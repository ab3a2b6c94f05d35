//! The charts of a survey's results, drawn as SVG by `charts-rs`: a bar per option (horizontal,
//! so long labels fit), a column per point of a scale, a stacked bar of the answers by province,
//! and a radar of the mean per row of a matrix (a stacked bar of its points when it has fewer
//! than three rows). Each SVG is `role="img"` with a `<title>` and a `<desc>` (the summary),
//! and the pages that show one give the same numbers as a table.

use charts_rs::{BarChart, HorizontalBarChart, RadarChart, RadarIndicator, Series};
use cit_core::surveys::{AreaScore, Breakdown, ChoiceCount, QuestionResult, it_number};

/// The kinds of chart, for the `data-chart` attribute and the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    Bar,
    Stacked,
    Radar,
}

impl ChartKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bar => "bar",
            Self::Stacked => "stacked",
            Self::Radar => "radar",
        }
    }
}

const WIDTH: f32 = 640.0;

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Makes the drawing an accessible image: a role, a name and a description, and sizes that
/// follow its container.
fn accessible(svg: String, id: &str, title: &str, desc: &str, kind: ChartKind) -> String {
    let open_end = svg.find('>').unwrap_or(0);
    let (open, rest) = svg.split_at(open_end + 1);
    let open = open.replacen(
        "<svg ",
        &format!(
            "<svg role=\"img\" aria-labelledby=\"{id}-titolo {id}-desc\" class=\"grafico\" data-chart=\"{}\" preserveAspectRatio=\"xMinYMin meet\" ",
            kind.as_str()
        ),
        1,
    );
    format!(
        "{open}<title id=\"{id}-titolo\">{}</title><desc id=\"{id}-desc\">{}</desc>{rest}",
        xml_escape(title),
        xml_escape(desc)
    )
}

/// An axis of counts: whole-number ticks from 0, at most five steps.
fn count_axis(configs: &mut [charts_rs::YAxisConfig], largest: f32) {
    let step = (largest / 5.0).ceil().max(1.0);
    // One step above the largest, so that the label at the end of the longest bar fits.
    let max = ((largest / step).floor() + 1.0) * step;
    if let Some(axis) = configs.first_mut() {
        axis.min = Some(0.0);
        axis.max = Some(max);
        axis.split_number = (max / step) as usize;
    }
}

fn largest(xs: impl IntoIterator<Item = f32>) -> f32 {
    xs.into_iter().fold(0.0, f32::max)
}

fn counts(choices: &[ChoiceCount]) -> Vec<f32> {
    choices.iter().map(|c| c.count as f32).collect()
}

fn labels(choices: &[ChoiceCount]) -> Vec<String> {
    choices.iter().map(|c| c.label.clone()).collect()
}

fn bars(q: &QuestionResult) -> Option<String> {
    let series = vec![Series::new("Risposte".into(), counts(&q.choices))];
    let svg = if q.kind == "scale" {
        let mut c = BarChart::new(series, labels(&q.choices));
        count_axis(&mut c.y_axis_configs, largest(counts(&q.choices)));
        c.width = WIDTH;
        c.height = 300.0;
        c.series_list[0].label_show = true;
        c.legend.show = Some(false);
        c.svg()
    } else {
        // A horizontal chart lists its categories from the bottom up: reversed, they read in
        // the order of the question.
        let mut choices = q.choices.clone();
        choices.reverse();
        let mut c = HorizontalBarChart::new(vec![Series::new("Risposte".into(), counts(&choices))], labels(&choices));
        count_axis(&mut c.y_axis_configs, largest(counts(&choices)));
        c.width = WIDTH;
        c.height = 80.0 + 36.0 * choices.len() as f32;
        c.series_list[0].label_show = true;
        c.legend.show = Some(false);
        c.svg()
    };
    svg.ok()
}

/// The answers of each group of a breakdown, one stacked bar per group.
fn stacked(b: &Breakdown) -> Option<String> {
    if b.groups.is_empty() {
        return None;
    }
    let options = &b.groups[0].choices;
    // Bottom-up, like every horizontal chart: reversed, the groups read in the table's order.
    let groups: Vec<_> = b.groups.iter().rev().collect();
    let series = options
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let mut s = Series::new(o.label.clone(), groups.iter().map(|g| g.choices[i].count as f32).collect());
            s.stack = Some("risposte".into());
            s
        })
        .collect();
    let groups = groups.iter().map(|g| g.key.clone().unwrap_or_else(|| "non indicata".into())).collect();
    let mut c = HorizontalBarChart::new(series, groups);
    count_axis(&mut c.y_axis_configs, largest(b.groups.iter().map(|g| g.choices.iter().map(|c| c.count as f32).sum())));
    c.width = WIDTH;
    c.height = 120.0 + 36.0 * b.groups.len() as f32;
    c.svg().ok()
}

fn radar(q: &QuestionResult) -> Option<String> {
    let indicators =
        q.rows.iter().map(|r| RadarIndicator { name: r.label.clone(), max: 5.0, ..Default::default() }).collect();
    let means = q.rows.iter().map(|r| r.stats.as_ref().map(|s| s.mean as f32).unwrap_or(0.0)).collect();
    let mut c = RadarChart::new(vec![Series::new("Media".into(), means)], indicators);
    c.width = WIDTH;
    c.height = 420.0;
    c.svg().ok()
}

fn matrix_stacked(q: &QuestionResult) -> Option<String> {
    let rows: Vec<_> = q.rows.iter().rev().collect();
    let series = (0..5)
        .map(|p| {
            let mut s = Series::new(format!("{}", p + 1), rows.iter().map(|r| r.points[p].count as f32).collect());
            s.stack = Some("punti".into());
            s
        })
        .collect();
    let mut c = HorizontalBarChart::new(series, rows.iter().map(|r| r.label.clone()).collect());
    count_axis(&mut c.y_axis_configs, largest(q.rows.iter().map(|r| r.answered as f32)));
    c.width = WIDTH;
    c.height = 120.0 + 36.0 * q.rows.len() as f32;
    c.svg().ok()
}

/// The chart of a question's results, if it has one (texts and numbers have none), and its kind.
pub fn question_chart(q: &QuestionResult, id: &str) -> Option<(ChartKind, String)> {
    let (kind, svg) = match q.kind {
        "single" | "multiple" | "scale" => (ChartKind::Bar, bars(q)?),
        "matrix" if q.rows.len() >= 3 => (ChartKind::Radar, radar(q)?),
        "matrix" => (ChartKind::Stacked, matrix_stacked(q)?),
        _ => return None,
    };
    Some((kind, accessible(svg, id, &q.label, &q.summary, kind)))
}

/// The chart of a question's answers by province, one stacked bar per province.
pub fn province_chart(q: &QuestionResult, id: &str) -> Option<(ChartKind, String)> {
    let b = q.breakdowns.iter().find(|b| b.by == "province")?;
    let svg = stacked(b)?;
    let title = format!("{}: risposte per provincia", q.label);
    let desc = b
        .groups
        .iter()
        .map(|g| {
            let parts: Vec<String> = g.choices.iter().map(|c| format!("{} {}", c.label, c.count)).collect();
            format!("{}: {}", g.key.as_deref().unwrap_or("non indicata"), parts.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ");
    Some((ChartKind::Stacked, accessible(svg, id, &title, &desc, ChartKind::Stacked)))
}

/// A body's maturity profile: the share of each area's points, as a radar (three areas or
/// more) or bars.
pub fn profile_chart(areas: &[AreaScore], id: &str, title: &str) -> Option<(ChartKind, String)> {
    let desc = areas
        .iter()
        .map(|a| format!("{}: {} % ({})", a.label, it_number(a.percent), a.level_label))
        .collect::<Vec<_>>()
        .join("; ");
    let shares: Vec<f32> = areas.iter().map(|a| a.percent as f32).collect();
    let (kind, svg) = if areas.len() >= 3 {
        let indicators =
            areas.iter().map(|a| RadarIndicator { name: a.label.clone(), max: 100.0, ..Default::default() }).collect();
        let mut c = RadarChart::new(vec![Series::new("Punteggio %".into(), shares)], indicators);
        c.width = WIDTH;
        // The web fits the shorter side: a lower canvas leaves room for long labels at its sides.
        c.height = 360.0;
        (ChartKind::Radar, c.svg().ok()?)
    } else {
        let mut c = HorizontalBarChart::new(
            vec![Series::new("Punteggio %".into(), shares)],
            areas.iter().map(|a| a.label.clone()).collect(),
        );
        c.width = WIDTH;
        c.height = 80.0 + 36.0 * areas.len() as f32;
        c.legend.show = Some(false);
        (ChartKind::Bar, c.svg().ok()?)
    };
    Some((kind, accessible(svg, id, title, &desc, kind)))
}

/// Every body side by side: per area, how many bodies stand at each level, stacked.
pub fn levels_chart(
    areas: &[(String, String)],
    levels: &[String],
    profiles: &[Vec<AreaScore>],
    id: &str,
) -> Option<(ChartKind, String)> {
    let count = |area: &str, level: usize| {
        profiles.iter().filter(|p| p.iter().any(|a| a.name == area && a.level == level)).count() as f32
    };
    let bottom_up: Vec<_> = areas.iter().rev().collect();
    let series = levels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut s = Series::new(l.clone(), bottom_up.iter().map(|(name, _)| count(name, i + 1)).collect());
            s.stack = Some("livelli".into());
            s
        })
        .collect();
    let mut c = HorizontalBarChart::new(series, bottom_up.iter().map(|(_, label)| label.clone()).collect());
    count_axis(&mut c.y_axis_configs, profiles.len() as f32);
    c.width = WIDTH;
    c.height = 120.0 + 36.0 * areas.len() as f32;
    let svg = c.svg().ok()?;
    let desc = areas
        .iter()
        .map(|(name, label)| {
            let parts: Vec<String> =
                levels.iter().enumerate().map(|(i, l)| format!("{l} {}", count(name, i + 1))).collect();
            format!("{label}: {}", parts.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ");
    let title = "Livello di maturità degli enti per area";
    Some((ChartKind::Stacked, accessible(svg, id, title, &desc, ChartKind::Stacked)))
}
