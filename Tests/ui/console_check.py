#!/usr/bin/env python3
"""The web console in a real browser: Debian's chromium, driven through chromium-driver by
Selenium, against a live axond on 127.0.0.1 (port 0, state in a temporary directory, both
tokens set so the console has to ask for one).

It walks what a person does and asserts on what the page shows:

  1. /ui asks for a token (the API answers 401 without one); the read token lists the models.
  2. Train iris from its CSV through the form with the read token: the page shows the 403
     insufficient_scope error and no job starts. With the admin token the same form starts one.
  3. The job page draws the loss curves from the event stream until the job succeeds: the SVG
     paths have one point per epoch of the job's record, the result names the version installed.
  4. The model page shows the accuracy the API reports and a confusion-matrix heat map whose
     cells are the API's counts, with the architecture, normalization and settings.
  5. Predict through the form: the class shown is the one POST /predict answers for the row.
  6. A long digits job followed live: its curve grows while it trains, the jobs list shows it
     running, and Cancel stops it.
  7. The browser logged no script error and no Content-Security-Policy violation.

Screenshots (1280x800) go to --screenshots. Every wait is an explicit, bounded Selenium wait
and the whole run is bounded by --deadline. Exits 1 on the first failed check, 2 when the
daemon or the browser cannot be started.

    python Tests/ui/console_check.py --axond .build/debug/axond --screenshots .build/ui-screenshots
"""
import argparse
import json
import pathlib
import signal
import sys
import tempfile
import urllib.request

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support import expected_conditions

from console_support import ADMIN_TOKEN, READ_TOKEN, Console, Daemon, Failed, browser, check, http

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROW = "6.3, 2.5, 5.0, 1.9"


def ask_for_token(c):
    c.go("/models")
    c.wait(lambda: c.find("#token-dialog[open]"), "without a token the console asks for one")
    c.shot("token")
    c.set_token(READ_TOKEN)
    c.wait(lambda: "No models yet" in (c.text(".card.empty h2") or ""), "the read token lists the models (none yet)")


def fill_train_form(c, iris):
    c.go("/train")
    c.wait(lambda: c.find("#train-file"), "the train form shows")
    c.find("#train-file").send_keys(str(iris))
    c.wait(lambda: c.find("#train-preview"), "the CSV's first rows show")
    target = c.text("#train-preview th.target-col") or ""
    check(target.splitlines()[-1:] == ["species"], "the last column is the target by default", target)
    check(c.find("#train-model").get_attribute("value") == "iris", "the model is named after the file")
    c.find("#train-validation").send_keys("0.2")
    c.find("#train-seed").send_keys("12")
    c.find("#train-submit").click()


def train_iris(c, base, iris):
    fill_train_form(c, iris)
    c.wait(lambda: "insufficient_scope" in (c.text("#train-message .error-box") or ""), "the read token cannot train (403 shown)")
    check(http("GET", base + "/jobs")[1]["jobs"] == [], "no job was started with the read token")
    c.shot("train-refused")
    c.set_token(ADMIN_TOKEN)
    fill_train_form(c, iris)
    c.wait(lambda: c.driver.current_url.split("#", 1)[-1].startswith("/jobs/job-"), "the admin token starts a job and opens its page")
    return c.driver.current_url.split("#/jobs/", 1)[1]


def watch_job(c, base, job_id):
    c.wait(lambda: c.find(".page[data-status=succeeded]"), "the job page shows the job succeeded")
    c.wait(lambda: c.find("#job-result"), "the job page shows the result")
    status, job = http("GET", f"{base}/jobs/{job_id}")
    check(status == 200 and job["status"] == "succeeded", "the API agrees the job succeeded", str(status))
    history = job["history"]
    validated = [e for e in history if e.get("validation_loss") is not None]
    check(len(history) > 5, "the job recorded more than 5 epochs", str(len(history)))
    check(c.points("train") == len(history), "the train curve has a point per recorded epoch", f"{c.points('train')} != {len(history)}")
    check(c.points("validation") == len(validated) > 0, "the validation curve has a point per validated epoch",
          f"{c.points('validation')} != {len(validated)}")
    result = c.text("#job-result")
    check(f"iris version {job['version']}" in result, "the result names the version installed", result)
    c.shot("job")


def model_page(c, base):
    c.find("#open-model").click()
    c.wait(lambda: c.find("#model-metrics") and c.find("#confusion"), "the model page shows metrics and the heat map")
    detail = http("GET", base + "/models/iris")[1]
    metrics = detail["metrics"]
    shown = c.text("[data-metric=accuracy] .tile-value")
    check(shown == f"{metrics['accuracy'] * 100:.2f}%", "the accuracy shown is the API's", f"{shown} vs {metrics['accuracy']}")
    cells = [[int(td.text) for td in tr.find_elements("css selector", "td")]
             for tr in c.driver.find_elements("css selector", "#confusion .heatmap tbody tr")]
    check(cells == metrics["confusion_matrix"], "the heat map's cells are the confusion matrix", f"{cells}")
    sizes = [int(e.text.replace(",", "")) for e in c.driver.find_elements("css selector", "#architecture .layer-size")]
    check(sizes == detail["architecture"]["layers"], "the architecture shows the layer sizes", f"{sizes}")
    columns = [td.text for td in c.driver.find_elements("css selector", "#normalization tbody td:first-child")]
    check(columns == ["sepal_length", "sepal_width", "petal_length", "petal_width"], "normalization lists the input columns", f"{columns}")
    check("validation split" in (c.text("#settings") or "").lower(), "the resolved settings show")
    c.shot("model")


def predict(c, base):
    c.find("#predict-link").click()
    c.wait(lambda: c.find("#predict-input") and c.find(".model-about .badge"), "the predict form shows the model's columns")
    c.find("#predict-input").send_keys(ROW)
    c.find("#predict-submit").click()
    c.wait(lambda: c.find("#predict-result .predicted-label"), "the prediction shows")
    row = [float(v) for v in ROW.split(",")]
    expected = http("POST", base + "/predict", json.dumps({"model": "iris", "inputs": [row]}).encode())[1]
    label = c.text("#predict-result .predicted-label")
    check(label == expected["labels"][0], "the class shown is the one /predict answers", f"{label} vs {expected['labels'][0]}")
    top = c.find("#predict-result .probability").get_attribute("data-class")
    check(top == label, "the most probable class is listed first", top)
    c.shot("predict")


def live_and_cancel(c, base, digits):
    query = "model=digits&target=digit&epochs=100000&patience=0&validation_split=0.2&seed=1"
    status, job = http("POST", f"{base}/train?{query}", digits.read_bytes(), content_type="text/csv")
    check(status == 202, "a long digits job is accepted", str(status))
    c.go(f"/jobs/{job['id']}")
    c.wait(lambda: c.points("train") >= 3, "the live job's curve has points")
    seen = c.points("train")
    c.wait(lambda: c.points("train") > seen + 2, "the curve grows while the job trains (events arrive live)")
    check(c.find(".page[data-status=running]") is not None, "the job shows as running")
    c.shot("job-live")
    c.go("/models")
    c.wait(lambda: "%" in (c.text("#models-table tr[data-model=iris] .quality") or ""), "the models list shows iris's accuracy")
    c.shot("models")
    c.go("/jobs")
    c.wait(lambda: c.find(f"#jobs-table tr[data-job='{job['id']}'] .badge-running"), "the jobs list shows the job running")
    c.shot("jobs")
    c.go(f"/jobs/{job['id']}")
    c.wait(lambda: c.find("#cancel-job") and c.find("#cancel-job").is_displayed(), "Cancel is offered while the job runs")
    c.find("#cancel-job").click()
    c.wait(lambda: expected_conditions.alert_is_present()(c.driver), "Cancel asks for confirmation").accept()
    c.wait(lambda: c.find(".page[data-status=cancelled]"), "the job shows as cancelled")
    check(http("GET", f"{base}/jobs/{job['id']}")[0] == 404, "the cancelled job's record is gone")


def browser_log_is_clean(c):
    problems = []
    for entry in c.driver.get_log("browser"):
        message = entry.get("message", "")
        # The 401 and 403 answers this run provokes are logged as failed loads; they are expected.
        if "status of 401" in message or "status of 403" in message:
            continue
        if entry.get("level") == "SEVERE" or "Content Security Policy" in message or "Uncaught" in message:
            problems.append(message)
    check(not problems, "the browser logged no script error or CSP violation", "; ".join(problems))


def headers_hold(base):
    with urllib.request.urlopen(base + "/ui", timeout=30) as response:
        csp = response.headers.get("Content-Security-Policy", "")
    check("script-src 'self'" in csp and "frame-ancestors 'none'" in csp, "/ui is served with the CSP", csp)


def run(args, workdir):
    daemon = Daemon(args.axond, workdir)
    try:
        if not daemon.wait_ready(60):
            print("axond did not become ready; its log:\n" + pathlib.Path(workdir, "axond.log").read_text(), file=sys.stderr)
            return 2
        try:
            driver = browser(pathlib.Path(workdir, "profile"))
        except WebDriverException as error:
            print(f"chromium could not be started: {error}", file=sys.stderr)
            return 2
        try:
            c = Console(driver, daemon.base, args.screenshots)
            headers_hold(daemon.base)
            ask_for_token(c)
            job_id = train_iris(c, daemon.base, args.iris)
            watch_job(c, daemon.base, job_id)
            model_page(c, daemon.base)
            predict(c, daemon.base)
            live_and_cancel(c, daemon.base, args.digits)
            browser_log_is_clean(c)
        finally:
            driver.quit()
    except Failed as failure:
        print(f"FAIL {failure}", file=sys.stderr)
        print("axond log (last lines):\n" + "".join(pathlib.Path(workdir, "axond.log").read_text().splitlines(True)[-20:]), file=sys.stderr)
        return 1
    finally:
        daemon.stop()
    print(f"console-check: every check passed; screenshots in {args.screenshots}")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--axond", required=True)
    parser.add_argument("--iris", type=pathlib.Path, default=ROOT / "examples/iris.csv")
    parser.add_argument("--digits", type=pathlib.Path, default=ROOT / "examples/digits.csv")
    parser.add_argument("--screenshots", type=pathlib.Path, default=ROOT / ".build/ui-screenshots")
    parser.add_argument("--deadline", type=int, default=300, help="seconds for the whole run")
    args = parser.parse_args()
    args.screenshots.mkdir(parents=True, exist_ok=True)
    for old in args.screenshots.glob("*.png"):
        old.unlink()

    def expire(*_):
        raise Failed(f"the run passed its deadline of {args.deadline} s")
    signal.signal(signal.SIGALRM, expire)
    signal.alarm(args.deadline)
    with tempfile.TemporaryDirectory(prefix="axon-ui-") as workdir:
        return run(args, workdir)


if __name__ == "__main__":
    sys.exit(main())
