//! Prometheus metrics, served as text at `GET /metrics`.
//!
//! - `wiredraw_http_requests_total{route, status}`
//! - `wiredraw_http_request_duration_seconds{route}`
//! - `wiredraw_ingest_records_total{log_type, outcome}` (`outcome` is `accepted` or `rejected`)
//! - `wiredraw_store_operation_duration_seconds{operation}`

use parking_lot::Mutex;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use rustc_hash::FxHashSet;
use std::time::Duration;

/// Distinct `log_type` label values before further types are counted as `other`: the type
/// comes from the request path, and unbounded label sets would grow the registry forever.
const MAX_LOG_TYPE_LABELS: usize = 64;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RecordLabels {
    log_type: String,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreLabels {
    operation: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// The server's metrics and the registry that renders them.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: HistogramFamily<RouteLabels>,
    records: Family<RecordLabels, Counter>,
    store_seconds: HistogramFamily<StoreLabels>,
    log_types: Mutex<FxHashSet<String>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn latency_histogram() -> Histogram {
    // 100 µs to ~52 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 20))
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("wiredraw");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        let request_seconds: HistogramFamily<RouteLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route",
            request_seconds.clone(),
        );
        let records = Family::<RecordLabels, Counter>::default();
        registry.register(
            "ingest_records",
            "Log records received by log type and outcome (accepted or rejected)",
            records.clone(),
        );
        let store_seconds: HistogramFamily<StoreLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "store_operation_duration_seconds",
            "Time the store took per operation",
            store_seconds.clone(),
        );
        Metrics {
            registry,
            requests,
            request_seconds,
            records,
            store_seconds,
            log_types: Mutex::new(FxHashSet::default()),
        }
    }

    /// Counts one answered request.
    pub fn request(&self, route: &'static str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels { route, status })
            .inc();
        self.request_seconds
            .get_or_create(&RouteLabels { route })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts the records of one ingest request.
    pub fn records(&self, log_type: &str, accepted: u64, rejected: u64) {
        let log_type = self.log_type_label(log_type);
        for (outcome, n) in [("accepted", accepted), ("rejected", rejected)] {
            if n > 0 {
                self.records
                    .get_or_create(&RecordLabels {
                        log_type: log_type.clone(),
                        outcome,
                    })
                    .inc_by(n);
            }
        }
    }

    /// Records how long one store operation took.
    pub fn store_latency(&self, operation: &'static str, elapsed: Duration) {
        self.store_seconds
            .get_or_create(&StoreLabels { operation })
            .observe(elapsed.as_secs_f64());
    }

    fn log_type_label(&self, log_type: &str) -> String {
        let mut seen = self.log_types.lock();
        if seen.contains(log_type) {
            return log_type.to_string();
        }
        if seen.len() < MAX_LOG_TYPE_LABELS {
            seen.insert(log_type.to_string());
            return log_type.to_string();
        }
        "other".to_string()
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing into a String cannot fail");
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_show_in_the_text_exposition() {
        let metrics = Metrics::new();
        metrics.request("graph", 200, Duration::from_millis(3));
        metrics.request("graph", 200, Duration::from_millis(4));
        metrics.records("conn", 10, 2);
        metrics.store_latency("ingest", Duration::from_millis(1));
        let text = metrics.render();
        assert!(
            text.contains("wiredraw_http_requests_total{route=\"graph\",status=\"200\"} 2"),
            "{text}"
        );
        assert!(
            text.contains(
                "wiredraw_ingest_records_total{log_type=\"conn\",outcome=\"accepted\"} 10"
            )
        );
        assert!(
            text.contains(
                "wiredraw_ingest_records_total{log_type=\"conn\",outcome=\"rejected\"} 2"
            )
        );
        assert!(
            text.contains(
                "wiredraw_store_operation_duration_seconds_count{operation=\"ingest\"} 1"
            )
        );
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn log_type_labels_are_bounded() {
        let metrics = Metrics::new();
        for i in 0..MAX_LOG_TYPE_LABELS + 5 {
            metrics.records(&format!("type{i}"), 1, 0);
        }
        let text = metrics.render();
        assert!(
            text.contains("log_type=\"other\",outcome=\"accepted\"} 5"),
            "{text}"
        );
    }
}
