#!/usr/bin/env python3
"""Writes kite's Grafana dashboards (ops/grafana/dashboards/{overview,drift,http}.json) with the
Grafana Foundation SDK (PyPI grafana-foundation-sdk==1769699379!11.6.0, the Grafana 11.6 schema
build; it has no dependencies).

    tools/gen_dashboards.py            write the three files
    tools/gen_dashboards.py --check    exit 1 if a committed file differs from what this writes

Every expression uses only metrics kite exports (engine/runtime/stats.c, engine/stream/pipeline.c,
engine/drift/drift_metrics.c, engine/http/http_metrics.c). Selectors take the dashboard's variables
($job, $instance, and on the drift board $window, $feature), each with an "All" value of ".+",
so tests/e2e/ops_dashboards.py can run every panel's expression through a real Prometheus the way
Grafana would with the defaults selected. Range functions use $__rate_interval."""
import argparse
import json
import os
import sys

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import heatmap, prometheus, stat, statetimeline, table, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "ops", "grafana", "dashboards")
DS = dm.DataSourceRef(type_val="prometheus", uid="${datasource}")
RI = "$__rate_interval"


def sel(*extra, window=False, feature=False):
    """The label selector of a panel: the dashboard's variables, then extra matchers."""
    m = ['job=~"$job"', 'instance=~"$instance"']
    if window:
        m.append('window=~"$window"')
    if feature:
        m.append('feature=~"$feature"')
    return "{" + ", ".join(list(extra) + m) + "}"


def q(expr, legend=None, instant=False, fmt=None):
    t = prometheus.Dataquery().expr(expr).datasource(DS)
    if legend:
        t = t.legend_format(legend)
    if instant:
        t = t.instant()
    if fmt:
        t = t.format(fmt)
    return t


def thresholds(*steps):
    """steps: (value or None for the base, color)."""
    return (db.ThresholdsConfig().mode(dm.ThresholdsMode.ABSOLUTE)
            .steps([dm.Threshold(value=v, color=c) for v, c in steps]))


def ts(title, desc, unit, targets, w=12, h=8, lines=None, minimum=None):
    p = (timeseries.Panel().title(title).description(desc).unit(unit).datasource(DS)
         .span(w).height(h).fill_opacity(10)
         .legend(cb.VizLegendOptions().display_mode(cm.LegendDisplayMode.LIST)
                 .placement(cm.LegendPlacement.BOTTOM).show_legend(True)))
    if minimum is not None:
        p = p.min(minimum)
    if lines:  # threshold lines drawn on the graph (e.g. PSI 0.1 / 0.25)
        p = p.thresholds(thresholds(*lines)).thresholds_style(
            cb.GraphThresholdsStyleConfig().mode(cm.GraphThresholdsStyleMode.DASHED))
    for t in targets:
        p = p.with_target(t)
    return p


def single(title, desc, unit, targets, w=4, h=4, steps=None, mappings=None):
    p = (stat.Panel().title(title).description(desc).unit(unit).datasource(DS).span(w).height(h)
         .graph_mode(cm.BigValueGraphMode.AREA).color_mode(cm.BigValueColorMode.VALUE)
         .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"])))
    if steps:
        p = p.thresholds(thresholds(*steps))
    if mappings:
        p = p.mappings([dm.ValueMap(options={str(k): dm.ValueMappingResult(text=t, color=c, index=i)
                                             for i, (k, t, c) in enumerate(mappings)})])
    for t in targets:
        p = p.with_target(t)
    return p


def info_table(title, desc, expr, w=8, h=4):
    return (table.Panel().title(title).description(desc).datasource(DS).span(w).height(h)
            .with_target(q(expr, instant=True, fmt="table")))


def variables(d, metric, drift=False):
    """datasource, job, instance (and window, feature): each "All" (.+) by default."""
    d = d.with_variable(db.DatasourceVariable("datasource").label("Prometheus").type("prometheus"))

    def var(name, label, query):
        return (db.QueryVariable(name).label(label).query(query).datasource(DS)
                .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED).sort(dm.VariableSort.ALPHABETICAL_ASC)
                .multi(True).include_all(True).all_value(".+")
                .current(dm.VariableOption(text="All", value="$__all", selected=True)))

    d = d.with_variable(var("job", "job", f"label_values({metric}, job)"))
    d = d.with_variable(var("instance", "instance", f'label_values({metric}{{job=~"$job"}}, instance)'))
    if drift:
        d = d.with_variable(var("window", "window",
                                f'label_values({metric}{{job=~"$job", instance=~"$instance"}}, window)'))
        d = d.with_variable(var("feature", "feature",
                                f'label_values({metric}{{job=~"$job", instance=~"$instance", '
                                f'window=~"$window"}}, feature)'))
    return d


def dashboard(uid, title, desc, tags):
    return (db.Dashboard(title).uid(uid).description(desc).tags(["kite"] + tags)
            .refresh("10s").time("now-1h", "now").timezone("browser")
            .tooltip(dm.DashboardCursorSync.CROSSHAIR).editable())


def quantiles(metric, by, legend, extra=(), qs=(0.5, 0.95, 0.99)):
    return [q(f"histogram_quantile({v}, sum by (le{by}) (rate({metric}_bucket{sel(*extra)}[{RI}])))",
              f"p{round(v * 100)}{legend}") for v in qs]


def overview():
    d = variables(dashboard("kite-overview", "kite: overview",
                            "kite serve: throughput, latency, Kafka lag, errors, outputs in flight and "
                            "producer retries (pipeline /metrics on metrics_addr)", ["stream"]),
                  "kite_events_consumed_total")
    d = d.with_row(db.Row("Health"))
    d = d.with_panel(single("Ready", "1 while partitions are assigned and kite is healthy (kite_ready)",
                            "none", [q(f"kite_ready{sel()}", "{{instance}}")],
                            steps=[(None, "red"), (1, "green")],
                            mappings=[(0, "not ready", "red"), (1, "ready", "green")]))
    d = d.with_panel(single("Scrape up", "Prometheus reached the target (up)", "none",
                            [q(f"up{sel()}", "{{instance}}")], steps=[(None, "red"), (1, "green")],
                            mappings=[(0, "down", "red"), (1, "up", "green")]))
    d = d.with_panel(single("Workers", "Pipeline worker threads (kite_workers)", "none",
                            [q(f"kite_workers{sel()}", "{{instance}}")]))
    d = d.with_panel(info_table("Model", "The model being served: file and xxh64 fingerprint "
                                "(kite_model_info)", f"kite_model_info{sel()}", w=12))
    d = d.with_row(db.Row("Throughput and latency"))
    d = d.with_panel(ts("Events/s in and out",
                        "Consumed from Kafka, scored (one prediction each), and outputs acknowledged "
                        "by Kafka (predictions, alerts, dead letters, drift events)", "ops", [
                            q(f"sum by (instance) (rate(kite_events_consumed_total{sel()}[{RI}]))",
                              "in: consumed {{instance}}"),
                            q(f"sum by (instance) (rate(kite_events_scored_total{sel()}[{RI}]))",
                              "out: predictions {{instance}}"),
                            q(f"sum by (instance) (rate(kite_outputs_delivered_total{sel()}[{RI}]))",
                              "out: outputs delivered {{instance}}"),
                            q(f"sum by (instance) (rate(kite_alerts_total{sel()}[{RI}]))",
                              "out: alerts {{instance}}")], minimum=0))
    d = d.with_panel(ts("Event latency p50 / p95 / p99",
                        "Event timestamp to the delivery report of its prediction "
                        "(kite_event_latency_seconds)", "s",
                        quantiles("kite_event_latency_seconds", ", instance", " {{instance}}"),
                        minimum=0))
    d = d.with_panel(ts("Batch scoring time p50 / p99",
                        "One batch through the kernel and objective transform "
                        "(kite_scoring_latency_seconds)", "s",
                        quantiles("kite_scoring_latency_seconds", ", instance", " {{instance}}",
                                  qs=(0.5, 0.99)), minimum=0))
    d = d.with_panel(ts("Events per batch p50 / p99", "kite_batch_events", "none",
                        quantiles("kite_batch_events", ", instance", " {{instance}}", qs=(0.5, 0.99)),
                        minimum=0))
    d = d.with_row(db.Row("Kafka"))
    d = d.with_panel(ts("Consumer lag per partition",
                        "High watermark minus the consumer's position (kite_consumer_lag_messages)",
                        "short", [q(f"sum by (topic, partition) (kite_consumer_lag_messages{sel()})",
                                    "{{topic}}/{{partition}}")], minimum=0))
    d = d.with_panel(ts("Outputs in flight", "Outputs awaiting a delivery report; offsets are stored "
                        "only after them (kite_outputs_in_flight)", "short",
                        [q(f"kite_outputs_in_flight{sel()}", "{{instance}}")], minimum=0))
    d = d.with_panel(ts("Producer retries",
                        "Produce calls answered __QUEUE_FULL (retried after polling) and failed "
                        "delivery reports (each output produced again)", "ops", [
                            q(f"sum by (instance) (rate(kite_producer_queue_full_total{sel()}[{RI}]))",
                              "queue full, retried {{instance}}"),
                            q(f"sum by (instance) (rate(kite_output_delivery_errors_total{sel()}[{RI}]))",
                              "delivery errors, re-produced {{instance}}")], minimum=0))
    d = d.with_panel(ts("Kafka errors and rebalances", "kite_kafka_errors_total, kite_rebalances_total",
                        "ops", [
                            q(f"sum by (instance) (rate(kite_kafka_errors_total{sel()}[{RI}]))",
                              "librdkafka errors {{instance}}"),
                            q(f"sum by (instance) (rate(kite_rebalances_total{sel()}[{RI}]))",
                              "assignments + revocations {{instance}}")], minimum=0))
    d = d.with_row(db.Row("Errors"))
    d = d.with_panel(ts("Dead letters and inference errors",
                        "Events dead-lettered (unparsable, not featurizable, bad labels) and NaN or "
                        "infinite predictions", "ops", [
                            q(f"sum by (instance) (rate(kite_dead_letters_total{sel()}[{RI}]))",
                              "dead letters {{instance}}"),
                            q(f"sum by (instance) (rate(kite_inference_errors_total{sel()}[{RI}]))",
                              "inference errors {{instance}}")], minimum=0))
    d = d.with_panel(ts("Dead-letter share of consumed events", "", "percentunit", [
        q(f"sum by (instance) (rate(kite_dead_letters_total{sel()}[{RI}])) / "
          f"sum by (instance) (rate(kite_events_consumed_total{sel()}[{RI}]))", "{{instance}}")],
        minimum=0))
    d = d.with_panel(ts("Missing feature values per scored event",
                        "kite_missing_feature_values_total / kite_events_scored_total", "short", [
                            q(f"sum by (instance) (rate(kite_missing_feature_values_total{sel()}[{RI}])) / "
                              f"sum by (instance) (rate(kite_events_scored_total{sel()}[{RI}]))",
                              "{{instance}}")], minimum=0))
    d = d.with_panel(ts("Events scored while warming up", "Keys whose lags or windows are not full yet",
                        "ops", [q(f"sum by (instance) (rate(kite_events_warming_up_total{sel()}[{RI}]))",
                                  "{{instance}}")], minimum=0))
    return d


def drift():
    d = variables(dashboard("kite-drift", "kite: drift",
                            "Drift monitor of kite serve (drift_profile): PSI and the drift test per "
                            "feature, drift status, prediction distribution, quality with delayed "
                            "labels", ["drift"]), "kite_drift_psi", drift=True)
    w, wf = sel(window=True), sel(window=True, feature=True)
    pred = sel('feature="prediction"', window=True)
    quality = lambda metric: sel(f'metric="{metric}"', window=True)
    quality_others = sel('metric!~"count|accuracy|rmse"', window=True)
    ref_rmse = sel('metric="rmse"')  # the reference has no window label
    d = d.with_row(db.Row("Status at the latest check"))
    flag = [(0, "no", "green"), (1, "drift", "red")]
    d = d.with_panel(single("Dataset drift", "Share of drifted features >= the dataset threshold "
                            "(kite_drift_dataset_drift)", "none",
                            [q(f"kite_drift_dataset_drift{w}", "{{window}}")],
                            steps=[(None, "green"), (1, "red")], mappings=flag))
    d = d.with_panel(single("Prediction drift", "The prediction column's drift test "
                            "(kite_drift_prediction_drift)", "none",
                            [q(f"kite_drift_prediction_drift{w}", "{{window}}")],
                            steps=[(None, "green"), (1, "red")], mappings=flag))
    d = d.with_panel(single("Drifted features", "Share of features whose drift test says drifted",
                            "percentunit", [q(f"kite_drift_drifted_features_ratio{w}", "{{window}}")],
                            steps=[(None, "green"), (0.25, "orange"), (0.5, "red")]))
    d = d.with_panel(single("Largest PSI", "Over all features (kite_drift_psi_max)", "none",
                            [q(f"kite_drift_psi_max{w}", "{{window}}")],
                            steps=[(None, "green"), (0.1, "orange"), (0.25, "red")]))
    d = d.with_panel(single("Events in window", "kite_drift_window_events", "short",
                            [q(f"kite_drift_window_events{w}", "{{window}}")]))
    d = d.with_panel(single("Checks/min", "Drift checks run per minute (kite_drift_checks_total)",
                            "none", [q(f"sum by (window) (rate(kite_drift_checks_total{w}[{RI}])) * 60",
                                       "{{window}}")]))
    d = d.with_panel(statetimeline.Panel().title("Feature drift status")
                     .description("PSI level per feature: none (< 0.1), moderate, significant (>= 0.25)")
                     .datasource(DS).span(16).height(8)
                     .thresholds(thresholds((None, "green"), (1, "orange"), (2, "red")))
                     .mappings([dm.ValueMap(options={
                         "0": dm.ValueMappingResult(text="none", color="green", index=0),
                         "1": dm.ValueMappingResult(text="moderate", color="orange", index=1),
                         "2": dm.ValueMappingResult(text="significant", color="red", index=2)})])
                     .with_target(q(f"kite_drift_feature_status{wf}", "{{feature}} ({{window}})")))
    d = d.with_panel(ts("Detections/min by kind",
                        "A status got worse (feature, dataset, prediction) or a Page-Hinkley alarm on "
                        "the error stream (concept)", "none",
                        [q(f"sum by (kind) (rate(kite_drift_detection_events_total{sel()}[{RI}])) * 60",
                           "{{kind}}")], w=8, minimum=0))
    d = d.with_row(db.Row("Per feature over time"))
    d = d.with_panel(ts("PSI per feature", "Population stability index at each check; dashed: 0.1 "
                        "moderate, 0.25 significant", "none",
                        [q(f"kite_drift_psi{wf}", "{{feature}} ({{window}})")],
                        lines=[(None, "transparent"), (0.1, "orange"), (0.25, "red")], minimum=0))
    d = d.with_panel(ts("Drift test statistic per feature",
                        "KS D, chi-square, z, Jensen-Shannon or normed Wasserstein, as chosen per column",
                        "none", [q(f"kite_drift_statistic{wf}", "{{feature}} {{test}} ({{window}})")]))
    d = d.with_panel(ts("Drift test p-value per feature", "KS, chi-square and z tests; drifted below 0.05",
                        "none", [q(f"kite_drift_p_value{wf}", "{{feature}} {{test}} ({{window}})")],
                        lines=[(None, "red"), (0.05, "transparent")], minimum=0))
    d = d.with_panel(ts("Missing values per feature", "kite_drift_missing_ratio", "percentunit",
                        [q(f"kite_drift_missing_ratio{wf}", "{{feature}} ({{window}})")], minimum=0))
    d = d.with_row(db.Row("Predictions"))
    d = d.with_panel(heatmap.Panel().title("Prediction distribution")
                     .description("Predictions per bucket of kite_prediction_value (bounds 0.1 .. 1)")
                     .datasource(DS).span(12).height(8).calculate(False)
                     .with_target(q(f"sum by (le) (rate(kite_prediction_value_bucket{sel()}[{RI}]))",
                                    "{{le}}", fmt="heatmap")))
    d = d.with_panel(ts("Prediction column: PSI and drift test",
                        "Drift of the prediction itself against the reference's predictions", "none", [
                            q(f"kite_drift_psi{pred}",
                              "PSI ({{window}})"),
                            q(f"kite_drift_statistic{pred}",
                              "{{test}} ({{window}})")], minimum=0))
    d = d.with_row(db.Row("Quality with delayed labels"))
    d = d.with_panel(ts("Accuracy per window (classification)",
                        "On labelled predictions joined in the window; dashed: 0.8", "percentunit", [
                            q(f"kite_drift_quality{quality('accuracy')}",
                              "accuracy ({{window}})")],
                        lines=[(None, "red"), (0.8, "transparent")]))
    d = d.with_panel(ts("RMSE per window (regression) and the reference's",
                        "kite_drift_quality{metric=rmse} against kite_drift_reference_quality "
                        "(kite profile --label)", "none", [
                            q(f"kite_drift_quality{quality('rmse')}",
                              "rmse ({{window}})"),
                            q(f"kite_drift_reference_quality{ref_rmse}",
                              "reference rmse")], minimum=0))
    d = d.with_panel(ts("Other quality metrics", "Precision, recall, F1, ROC AUC, log-loss "
                        "(classification); MAE, R2, MAPE (regression)", "none", [
                            q(f"kite_drift_quality{quality_others}",
                              "{{metric}} ({{window}})")]))
    d = d.with_panel(ts("Labels", "Labels received, joined to a waiting prediction, unmatched; "
                        "predictions dropped before their label came", "ops", [
                            q(f"sum by (instance) (rate(kite_labels_total{sel()}[{RI}]))", "received"),
                            q(f"sum by (instance) (rate(kite_labels_joined_total{sel()}[{RI}]))", "joined"),
                            q(f"sum by (instance) (rate(kite_labels_unmatched_total{sel()}[{RI}]))",
                              "unmatched"),
                            q(f"sum by (instance) (rate(kite_drift_labels_dropped_total{sel()}[{RI}]))",
                              "dropped")], minimum=0))
    d = d.with_panel(ts("Labelled pairs per window", 'kite_drift_quality{metric="count"}', "short", [
        q(f"kite_drift_quality{quality('count')}", "{{window}}")], minimum=0))
    d = d.with_panel(ts("Drift monitor time per scored event",
                        "kite_drift_batch_seconds over kite_events_scored_total", "s", [
                            q(f"sum by (instance) (rate(kite_drift_batch_seconds_sum{sel()}[{RI}])) / "
                              f"sum by (instance) (rate(kite_events_scored_total{sel()}[{RI}]))",
                              "{{instance}}")], minimum=0))
    return d


def http():
    d = variables(dashboard("kite-http", "kite: HTTP",
                            "kite serve --http: requests by code and endpoint, latency, connections, "
                            "model reloads", ["http"]), "kite_http_requests_total")
    d = d.with_row(db.Row("Serving"))
    d = d.with_panel(info_table("Serving model", "version = xxh64 fingerprint of the model file "
                                "(kite_http_model_info)", f"kite_http_model_info{sel()}", w=12))
    d = d.with_panel(single("Draining", "1 after SIGTERM: /ready answers 503", "none",
                            [q(f"kite_http_draining{sel()}", "{{instance}}")],
                            steps=[(None, "green"), (1, "orange")],
                            mappings=[(0, "serving", "green"), (1, "draining", "orange")]))
    d = d.with_panel(single("Model age", "Time since the serving model was loaded", "s",
                            [q(f"time() - kite_http_model_loaded_timestamp_seconds{sel()}", "{{instance}}")]))
    d = d.with_panel(single("Workers", "kite_http_workers", "none",
                            [q(f"kite_http_workers{sel()}", "{{instance}}")]))
    d = d.with_row(db.Row("Requests"))
    ok = sel('code=~"2.."')
    d = d.with_panel(ts("Requests/s by code", "kite_http_requests_total", "reqps", [
        q(f"sum by (code) (rate(kite_http_requests_total{sel()}[{RI}]))", "{{code}}")], minimum=0))
    d = d.with_panel(ts("Requests/s by endpoint", "kite_http_requests_total", "reqps", [
        q(f"sum by (endpoint) (rate(kite_http_requests_total{sel()}[{RI}]))", "{{endpoint}}")],
        minimum=0))
    d = d.with_panel(ts("Non-2xx share", "Answers other than 2xx among all answers", "percentunit", [
        q(f"1 - sum by (instance) (rate(kite_http_requests_total{ok}[{RI}])) / "
          f"sum by (instance) (rate(kite_http_requests_total{sel()}[{RI}]))", "{{instance}}")],
        minimum=0))
    d = d.with_panel(ts("Rows scored/s and body bytes/s", "kite_http_rows_scored_total, "
                        "kite_http_request_body_bytes_total", "short", [
                            q(f"sum by (instance) (rate(kite_http_rows_scored_total{sel()}[{RI}]))",
                              "rows {{instance}}"),
                            q(f"sum by (instance) (rate(kite_http_request_body_bytes_total{sel()}[{RI}]))",
                              "body bytes {{instance}}")], minimum=0))
    d = d.with_row(db.Row("Latency"))
    d = d.with_panel(ts("/predict latency p50 / p95 / p99", "First byte in to response handed to the "
                        "socket (kite_http_request_duration_seconds)", "s",
                        quantiles("kite_http_request_duration_seconds", "", "",
                                  extra=('endpoint="predict"',)), minimum=0))
    d = d.with_panel(ts("p99 latency by endpoint", "kite_http_request_duration_seconds", "s", [
        q(f"histogram_quantile(0.99, sum by (le, endpoint) "
          f"(rate(kite_http_request_duration_seconds_bucket{sel()}[{RI}])))", "{{endpoint}}")],
        minimum=0))
    d = d.with_row(db.Row("Connections and reloads"))
    d = d.with_panel(ts("In flight and connections", "kite_http_in_flight_requests, "
                        "kite_http_open_connections", "short", [
                            q(f"kite_http_in_flight_requests{sel()}", "in flight {{instance}}"),
                            q(f"kite_http_open_connections{sel()}", "open connections {{instance}}")],
                        minimum=0))
    d = d.with_panel(ts("Model reloads", "SIGHUP or POST /admin/reload, by result "
                        "(kite_http_model_reloads_total)", "short", [
                            q(f"sum by (result) (increase(kite_http_model_reloads_total{sel()}[{RI}]))",
                              "{{result}}")], minimum=0))
    return d


def render(builder):
    """The dashboard's JSON, with what Grafana expects and the builders leave to the caller:
    unique panel ids (rows included) and a refId per query of a panel (A, B, ...)."""
    dash = builder.build()
    for i, panel in enumerate(dash.panels, 1):
        panel.id_val = i
        for j, target in enumerate(getattr(panel, "targets", None) or []):
            target.ref_id = chr(ord("A") + j)
    return json.dumps(dash, cls=JSONEncoder, indent=2, sort_keys=True) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed files")
    ap.add_argument("--out", default=OUT)
    a = ap.parse_args()
    stale = []
    for name, fn in (("overview", overview), ("drift", drift), ("http", http)):
        text, path = render(fn()), os.path.join(a.out, name + ".json")
        if a.check:
            old = open(path).read() if os.path.exists(path) else ""
            if old != text:
                stale.append(path)
            continue
        os.makedirs(a.out, exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        print("wrote", os.path.relpath(path, ROOT))
    if stale:
        print("out of date (run tools/gen_dashboards.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
