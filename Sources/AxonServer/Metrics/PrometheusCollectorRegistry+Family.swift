import Prometheus

// swift-prometheus deprecates name/help registration in favour of descriptors split into
// namespace, subsystem, name and unit. Axon's names are written whole (grep finds them), so
// these wrap a whole name in a descriptor.
extension PrometheusCollectorRegistry {
    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    func counter(name: String, labels: [(String, String)] = [], help: String) -> Counter {
        labels.isEmpty
            ? makeCounter(descriptor: Self.descriptor(name, help))
            : makeCounter(descriptor: Self.descriptor(name, help), labels: labels)
    }

    func gauge(name: String, labels: [(String, String)] = [], help: String) -> Gauge {
        labels.isEmpty
            ? makeGauge(descriptor: Self.descriptor(name, help))
            : makeGauge(descriptor: Self.descriptor(name, help), labels: labels)
    }

    func durationHistogram(name: String, labels: [(String, String)] = [], buckets: [Duration], help: String) -> DurationHistogram {
        labels.isEmpty
            ? makeDurationHistogram(descriptor: Self.descriptor(name, help), buckets: buckets)
            : makeDurationHistogram(descriptor: Self.descriptor(name, help), labels: labels, buckets: buckets)
    }

    func valueHistogram(name: String, buckets: [Double], help: String) -> ValueHistogram {
        makeValueHistogram(descriptor: Self.descriptor(name, help), buckets: buckets)
    }
}
