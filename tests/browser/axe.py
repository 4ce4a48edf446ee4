"""axe-core in every page the browser tests open: 0 critical and 0 serious violations.

The vendored axe-core (tests/browser/vendor/) and a small watcher are added to each new
document of a context through the DevTools protocol (`Page.addScriptToEvaluateOnNewDocument`,
which Playwright's `add_init_script` sends): the Content Security Policy forbids inline
scripts, and a script given by the protocol is not subject to it. The watcher runs axe once
the page has loaded and again after every htmx swap settles or history restore, when
transitions have ended, and reports each run to Python through a binding. `drain()` waits for
the runs in progress, so an assertion made at the end of a journey sees the last swap's result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

AXE_FILE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
BLOCKING = ("critical", "serious")
BINDING = "__carnetAxeReport"  # the name WATCHER calls
WATCHER = """
(() => {
  if (window.top !== window || window.__carnetAxe || !location.protocol.startsWith('http')) return;
  let running = null, again = false, reason = 'load';
  const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  async function settled() {  // a fading swap is checked once it has ended, as a person reads it
    for (;;) {
      await frame();
      const moving = document.getAnimations().filter(a => a.playState === 'running' && a.effect
        && a.effect.getComputedTiming().iterations !== Infinity);
      if (!moving.length) return;
      await Promise.all(moving.map(a => a.finished.catch(() => null)));
    }
  }
  // A countdown (role="timer") ticks every second, as it should: a check that takes longer
  // than a second on a busy machine would never find the page still.
  const moves = r => !(r.target.nodeType === 1 ? r.target : r.target.parentElement)?.closest('[role="timer"]');
  async function once(why) {
    const at = location.href;
    let result = null;
    for (let attempt = 0; attempt < 3 && !result; attempt++) {
      await settled();
      // A request in flight is a passage, not a screen: its answer's swap is checked.
      if (document.querySelector('.htmx-request')) return [];
      let changed = false;
      const watcher = new MutationObserver(records => { changed = changed || records.some(moves); });
      watcher.observe(document.documentElement, {subtree: true, childList: true, attributes: true});
      result = await axe.run(document, {resultTypes: ['violations']});
      watcher.disconnect();
      if (changed) result = null;  // the page moved under the check: check it again
    }
    // The journey moved on (a history push): the screen left is gone, the new one has its own run.
    if (!result && location.href !== at) return [];
    if (!result) throw new Error('the page kept changing during the check');
    const url = location.pathname + location.search;
    const found = result.violations
      .filter(v => v.impact === 'critical' || v.impact === 'serious')
      .map(v => ({id: v.id, impact: v.impact, help: v.help,
                  targets: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' — ' +
                                                      (n.failureSummary || '').split('\\n').slice(1, 2).join(''))}));
    window.__carnetAxeReport({url: url, why: why, violations: found,
                              width: window.innerWidth, height: window.innerHeight});
    return found;
  }
  async function loop() {
    do { again = false; const why = reason; try { await once(why); } catch (e) {
      window.__carnetAxeReport({url: location.pathname, why: why, error: String(e), violations: []}); } }
    while (again);
    running = null;
  }
  function schedule(why) {
    reason = why;
    if (running) { again = true; return running; }
    running = loop();
    return running;
  }
  window.__carnetAxe = {
    idle: () => (running || Promise.resolve()),
    now: () => schedule('asked').then(() => null),
  };
  // An htmx request (a boosted link or form, a swap) waits for the check in progress, so the
  // screen it leaves is checked as the person saw it, however fast the journey moves on.
  document.addEventListener('htmx:confirm', e => {
    if (!running) return;
    e.preventDefault();
    running.then(() => e.detail.issueRequest(true));
  });
  window.addEventListener('load', () => schedule('load'));
  document.addEventListener('htmx:afterSettle', e => schedule('after htmx ' + ((e.detail && e.detail.requestConfig && e.detail.requestConfig.verb) || 'swap') + ' ' + ((e.detail && e.detail.pathInfo && e.detail.pathInfo.requestPath) || '')));
  document.addEventListener('htmx:historyRestore', () => schedule('history restore'));
})();
"""


@dataclass
class AxeRuns:
    """What axe saw in one context's pages: every checked screen, and what blocks."""

    screens: list[str] = field(default_factory=list)
    blocking: list[str] = field(default_factory=list)
    pages: list = field(default_factory=list)

    def report(self, source, run: dict) -> None:
        where = f"{run['url']} ({run['why']}, {run.get('width')}×{run.get('height')})"
        if run.get("error"):
            self.blocking.append(f"axe could not run on {where}: {run['error']}")
            return
        self.screens.append(where)
        for v in run["violations"]:
            self.blocking.append(f"axe {v['impact']} {v['id']} on {where}: {v['help']}: " + "; ".join(v["targets"]))

    def drain(self) -> None:
        """Wait for every check in progress in the pages still open."""
        for page in self.pages:
            if not page.is_closed():
                _wait_idle(page)


def watch(context) -> AxeRuns:
    """Check every page of `context` with axe from now on. Requests made by htmx wait in the
    page for the check in progress; the test's own navigations (goto, reload, back, forward)
    and screenshots wait for it here (a screenshot adds and removes a style element to hide the
    caret and stop animations: the check would see the page change under it). Nothing is
    intercepted on the network (Chromium stalls some intercepted uploads)."""
    runs = AxeRuns()

    def opened(page) -> None:
        runs.pages.append(page)
        for name in ("goto", "reload", "go_back", "go_forward"):
            setattr(page, name, _after_checks(page, getattr(page, name)))
        page.screenshot = _after_checks(page, _captured(page.screenshot))

    context.expose_binding(BINDING, lambda source, run: runs.report(source, run))
    context.add_init_script(path=str(AXE_FILE))
    context.add_init_script(WATCHER)
    context.on("page", opened)
    for page in context.pages:
        opened(page)
    return runs


def _captured(screenshot):
    """Chromium now and then refuses one capture ("Unable to capture screenshot", a protocol
    error of Page.captureScreenshot) and takes the same picture when asked again: asked up to
    three times, any other error raised at once."""

    def wrapped(*args, **kwargs):
        for attempt in range(3):
            try:
                return screenshot(*args, **kwargs)
            except Exception as error:
                if "Unable to capture screenshot" not in str(error) or attempt == 2:
                    raise
        return None

    return wrapped


def _after_checks(page, navigate):
    def wrapped(*args, **kwargs):
        _wait_idle(page)
        return navigate(*args, **kwargs)

    return wrapped


def _wait_idle(page) -> None:
    for _attempt in range(3):
        try:
            page.evaluate("() => window.__carnetAxe ? window.__carnetAxe.idle().then(() => null) : null")
            return
        except Exception as error:  # the page navigated meanwhile: its next page is checked
            if "context was destroyed" not in str(error) and "navigat" not in str(error):
                raise
            page.wait_for_load_state("load")


def check_now(page, runs: AxeRuns) -> list[str]:
    """Run axe on the page as it is now and return what blocks (for journeys that check a
    precise state, e.g. a keyboard journey after each swap)."""
    before = len(runs.blocking)
    page.evaluate("() => window.__carnetAxe.now()")
    return runs.blocking[before:]
