//! The Prometheus text exposition writer, format version 0.0.4.
//!
//! Format rules this writer keeps (and the e2e test checks with `promtool`):
//! each family has one `# HELP` and one `# TYPE` line before its samples,
//! all samples of a family are contiguous, label values escape `\`, `"`
//! and newline, HELP text escapes `\` and newline, counters end in
//! `_total`, and a histogram has cumulative `_bucket` samples with
//! increasing `le` ending in `+Inf`, then `_sum` and `_count`.

use std::fmt::Write as _;

/// The type of a metric family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricType {
    /// A monotonically increasing count; the name ends in `_total`.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Bucketed observations (`_bucket`, `_sum`, `_count`).
    Histogram,
}

impl MetricType {
    fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
        }
    }
}

/// A text exposition being written.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
}

impl Exposition {
    /// An empty exposition.
    pub fn new() -> Exposition {
        Exposition::default()
    }

    /// The finished text.
    pub fn finish(self) -> String {
        self.out
    }

    /// Starts a family: its `# HELP` and `# TYPE` lines. Every sample of
    /// the family must follow before the next family starts.
    pub fn family(&mut self, name: &str, kind: MetricType, help: &str) {
        self.out.push_str("# HELP ");
        self.out.push_str(name);
        self.out.push(' ');
        for c in help.chars() {
            match c {
                '\\' => self.out.push_str("\\\\"),
                '\n' => self.out.push_str("\\n"),
                c => self.out.push(c),
            }
        }
        self.out.push_str("\n# TYPE ");
        self.out.push_str(name);
        self.out.push(' ');
        self.out.push_str(kind.as_str());
        self.out.push('\n');
    }

    /// One sample with an integer value.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: u64) {
        self.series(name, labels, None);
        let _ = writeln!(self.out, " {value}");
    }

    /// One sample with a float value (`NaN`, `+Inf` and `-Inf` allowed).
    pub fn sample_f64(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.series(name, labels, None);
        self.out.push(' ');
        write_float(&mut self.out, value);
        self.out.push('\n');
    }

    /// The samples of one histogram series. `bounds` are the finite upper
    /// bounds, increasing; `counts` has one count per bound plus a last one
    /// for observations above every bound (not cumulative: the writer sums
    /// them). A missing count reads as 0. `sum` is the sum of the
    /// observations, in the histogram's unit: every histogram has its
    /// `_sum` and `_count`, so rates of averages can be taken.
    pub fn histogram(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        bounds: &[f64],
        counts: &[u64],
        sum: f64,
    ) {
        let bucket = format!("{name}_bucket");
        let mut cumulative: u64 = 0;
        for (i, bound) in bounds.iter().enumerate() {
            cumulative = cumulative.saturating_add(counts.get(i).copied().unwrap_or(0));
            let mut le = String::new();
            write_float(&mut le, *bound);
            self.series(&bucket, labels, Some(&le));
            let _ = writeln!(self.out, " {cumulative}");
        }
        let over = counts.get(bounds.len()).copied().unwrap_or(0);
        cumulative = cumulative.saturating_add(over);
        self.series(&bucket, labels, Some("+Inf"));
        let _ = writeln!(self.out, " {cumulative}");
        self.sample_f64(&format!("{name}_sum"), labels, sum);
        self.sample(&format!("{name}_count"), labels, cumulative);
    }

    fn series(&mut self, name: &str, labels: &[(&str, &str)], le: Option<&str>) {
        self.out.push_str(name);
        if labels.is_empty() && le.is_none() {
            return;
        }
        self.out.push('{');
        let le = le.map(|v| ("le", v));
        for (i, (k, v)) in labels.iter().copied().chain(le).enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.out.push_str(k);
            self.out.push_str("=\"");
            for c in v.chars() {
                match c {
                    '\\' => self.out.push_str("\\\\"),
                    '"' => self.out.push_str("\\\""),
                    '\n' => self.out.push_str("\\n"),
                    c => self.out.push(c),
                }
            }
            self.out.push('"');
        }
        self.out.push('}');
    }
}

fn write_float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v == f64::INFINITY {
        out.push_str("+Inf");
    } else if v == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else {
        let _ = write!(out, "{v}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_labels_and_help() {
        let mut e = Exposition::new();
        e.family("x_total", MetricType::Counter, "a \\ b\nc");
        e.sample("x_total", &[("l", "q\"\\\n")], 3);
        e.sample("x_total", &[], 4);
        assert_eq!(
            e.finish(),
            "# HELP x_total a \\\\ b\\nc\n# TYPE x_total counter\n\
             x_total{l=\"q\\\"\\\\\\n\"} 3\nx_total 4\n"
        );
    }

    #[test]
    fn histogram_buckets_are_cumulative() {
        let mut e = Exposition::new();
        e.family("h_seconds", MetricType::Histogram, "h");
        e.histogram("h_seconds", &[("a", "b")], &[0.5, 1.0], &[1, 2, 3], 4.25);
        let text = e.finish();
        assert!(text.contains("h_seconds_bucket{a=\"b\",le=\"0.5\"} 1\n"));
        assert!(text.contains("h_seconds_bucket{a=\"b\",le=\"1\"} 3\n"));
        assert!(text.contains("h_seconds_bucket{a=\"b\",le=\"+Inf\"} 6\n"));
        assert!(text.contains("h_seconds_sum{a=\"b\"} 4.25\n"));
        assert!(text.contains("h_seconds_count{a=\"b\"} 6\n"));
    }

    #[test]
    fn special_floats() {
        let mut s = String::new();
        write_float(&mut s, f64::NAN);
        s.push(' ');
        write_float(&mut s, f64::INFINITY);
        s.push(' ');
        write_float(&mut s, f64::NEG_INFINITY);
        assert_eq!(s, "NaN +Inf -Inf");
    }
}
