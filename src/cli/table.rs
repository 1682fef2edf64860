//! A Go `text/tabwriter` equivalent (minwidth, padding, space padding, no
//! flags): promtool prints its tables through one, so ours must align alike.

/// Renders rows of cells: every cell but the last of a row is padded to its
/// column's width = max(cell width + padding, minwidth). The last cell of a
/// row is printed as is (it is not tab-terminated in Go's writer).
pub fn render(rows: &[Vec<String>], minwidth: usize, padding: usize) -> String {
    let ncols = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let mut widths = vec![0usize; ncols];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i + 1 < r.len() {
                let w = c.chars().count() + padding;
                if let Some(slot) = widths.get_mut(i) {
                    *slot = (*slot).max(w).max(minwidth);
                }
            }
        }
    }
    let mut out = String::new();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            out.push_str(c);
            if i + 1 < r.len() {
                let w = widths.get(i).copied().unwrap_or(0);
                for _ in c.chars().count()..w {
                    out.push(' ');
                }
            }
        }
        out.push('\n');
    }
    out
}
