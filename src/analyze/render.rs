//! promtool's human-readable report.

use super::{Analysis, Ranked};

/// promtool's human-readable report (2.42 layout, byte for byte).
pub fn render(a: &Analysis) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "Block ID: {}", a.block_id);
    let _ = writeln!(s, "Duration: {}", a.duration);
    let _ = writeln!(s, "Series: {}", a.series);
    let _ = writeln!(s, "Label names: {}", a.label_names);
    let _ = writeln!(s, "Postings (unique label pairs): {}", a.postings);
    let _ = writeln!(
        s,
        "Postings entries (total label pairs): {}",
        a.postings_entries
    );
    let sections: [(&str, &[Ranked]); 6] = [
        (
            "Label pairs most involved in churning",
            &a.churn_label_pairs,
        ),
        (
            "Label names most involved in churning",
            &a.churn_label_names,
        ),
        ("Most common label pairs", &a.common_label_pairs),
        (
            "Label names with highest cumulative label value length",
            &a.label_value_length,
        ),
        ("Highest cardinality labels", &a.label_cardinality),
        ("Highest cardinality metric names", &a.metric_cardinality),
    ];
    for (title, list) in sections {
        let _ = writeln!(s, "\n{title}:");
        for r in list {
            let _ = writeln!(s, "{} {}", r.value, r.key);
        }
    }
    if let Some(c) = &a.compaction {
        s.push_str("\nCompaction analysis:\n");
        s.push_str("Fullness: Amount of samples in chunks (100% is 120 samples)\n");
        for (i, p) in c.fullness_percent.iter().enumerate() {
            let _ = write!(s, "{:>7}%: ", (i + 1) * 10);
            for _ in 0..*p {
                s.push('#');
            }
            s.push('\n');
        }
    }
    s
}
