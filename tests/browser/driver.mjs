// Drives Debian's chromium (headless, through playwright-core) through one scenario of slotd's
// hosted pages and prints one JSON line: {ok, step, error?, console: [...], ...what it saw}.
//
//   node driver.mjs <scenario> < config.json
//
// The config (written by tests/browser/conftest.py): {chromium, artifacts, prefix, base, ...the
// scenario's own fields}. Every step leaves a screenshot <artifacts>/<prefix>-<NN>-<step>.png
// (a failing step: ...-FAILED.png). Console errors, page errors and CSP violations of every page
// and frame are collected in `console`; the Python side judges them. The DOM names used here are
// the contract of /work/scratch/web-brief.md ("The DOM contract").

import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const scenario = process.argv[2];
const cfg = JSON.parse(readFileSync(0, 'utf8'));
const out = { ok: false, scenario, step: null, console: [], shots: [] };
const pages = [];
let shotNo = 0;
let browser;

// ---------------------------------------------------------------------------------------------
// plumbing

async function shot(page, name) {
  shotNo += 1;
  const file = path.join(cfg.artifacts, `${cfg.prefix}-${String(shotNo).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  out.shots.push(file);
}

// Runs one step: its name is the failing step if it throws; a screenshot of `page` after it.
async function step(name, page, fn) {
  out.step = name;
  const r = await fn();
  if (page) await shot(page, name);
  return r;
}

async function newPage(label, options = {}) {
  const ctx = await browser.newContext({ locale: 'en-US', timezoneId: 'UTC', ...options });
  ctx.setDefaultTimeout(cfg.timeout_ms || 15000);
  // a CSP violation in any document (frames too) becomes a console error the test sees
  await ctx.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  const page = await ctx.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') out.console.push({ page: label, type: 'console', text: m.text(), url: m.location().url });
  });
  page.on('pageerror', (e) => out.console.push({ page: label, type: 'pageerror', text: String(e.stack || e) }));
  // failed loads, also those the console does not report (a cross-origin script's 404)
  page.on('response', (resp) => {
    if (resp.status() >= 400) out.console.push({ page: label, type: 'http', status: resp.status(), text: `${resp.request().method()} ${resp.url()} -> ${resp.status()}` });
  });
  page.on('requestfailed', (q) => {
    const why = q.failure()?.errorText || '';
    if (!why.includes('ERR_ABORTED')) out.console.push({ page: label, type: 'requestfailed', text: `${q.method()} ${q.url()}: ${why}` });
  });
  page.on('crash', () => out.console.push({ page: label, type: 'crash', text: 'page crashed' }));
  page.requests = [];
  page.on('request', (r) => { if (r.url().includes('/api/')) page.requests.push({ method: r.method(), url: r.url(), body: r.postData() }); });
  pages.push({ label, page });
  return page;
}

const url = (p) => new URL(p, cfg.base).href;
const same = (a, b) => Date.parse(a) === Date.parse(b);

// everything visible about the user-string escaping: injected elements and their side effects
async function injected(scope) {
  return scope.evaluate(() => ({
    imgs: document.querySelectorAll('img').length,
    xss: window.__xss === undefined ? null : window.__xss,
  }));
}

async function noHorizontalScroll(page) {
  return page.evaluate(() => ({ scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth }));
}

// ---------------------------------------------------------------------------------------------
// the event page (also inside an iframe: `scope` is a Page or a Frame)

async function slotStarts(scope) {
  return scope.$$eval('#slots button.slot', (bs) => bs.map((b) => b.dataset.start));
}

async function waitSlots(scope) {
  await scope.waitForSelector('#slots button.slot', { state: 'visible' });
  return slotStarts(scope);
}

// month navigation with #next-month / #prev-month until h2#month-label[data-month] is the date's
async function showMonth(scope, date) {
  const want = date.slice(0, 7);
  for (let i = 0; i < 24; i++) {
    const have = await scope.getAttribute('#month-label', 'data-month');
    if (have === want) return;
    await scope.click(have < want ? '#next-month' : '#prev-month');
    await scope.waitForFunction((h) => document.querySelector('#month-label')?.dataset.month !== h, have);
  }
  throw new Error(`month ${want} not reached`);
}

async function pickDay(scope, date) {
  await showMonth(scope, date);
  const sel = `button.day[data-date="${date}"]`;
  await scope.click(sel);
  await scope.waitForSelector(`${sel}[aria-pressed="true"]`);
  // the day's slots are those of that date in the chosen zone
  await scope.waitForFunction((d) => {
    const bs = [...document.querySelectorAll('#slots button.slot')];
    return bs.length > 0 && bs.every((b) => b.dataset.start.startsWith(d));
  }, date);
  return slotStarts(scope);
}

async function slotHandle(scope, instant) {
  await scope.waitForFunction((t) => [...document.querySelectorAll('#slots button.slot')]
    .some((b) => Date.parse(b.dataset.start) === Date.parse(t)), instant);
  const all = await scope.$$('#slots button.slot');
  for (const h of all) {
    if (same(await h.getAttribute('data-start'), instant)) return h;
  }
  throw new Error(`no slot at ${instant}`);
}

async function pickSlot(scope, instant) {
  const h = await slotHandle(scope, instant);
  const label = (await h.textContent()).trim();
  const start = await h.getAttribute('data-start');
  await h.click();
  await scope.waitForSelector('form#book', { state: 'visible' });
  return { label, start };
}

async function fillForm(scope, f) {
  if (f.name !== undefined) await scope.fill('#name', f.name);
  if (f.email !== undefined) await scope.fill('#email', f.email);
  for (const [id, v] of Object.entries(f.answers || {})) {
    const sel = `#q-${id}`;
    const tag = await scope.$eval(sel, (e) => `${e.tagName.toLowerCase()}:${e.type}`);
    if (tag.startsWith('select')) await scope.selectOption(sel, String(v));
    else if (tag === 'input:checkbox') await scope.setChecked(sel, Boolean(v));
    else await scope.fill(sel, String(v));
  }
}

async function confirmation(scope) {
  await scope.waitForSelector('section#confirmation', { state: 'visible' });
  // the calendar links come from a second request after the confirmation is shown
  await scope.waitForFunction(() => !document.getElementById('manage-link') || document.getElementById('cal-ics'));
  return scope.evaluate(() => {
    const href = (id) => document.getElementById(id)?.getAttribute('href') ?? null;
    const c = document.querySelector('section#confirmation');
    return {
      status: c.dataset.status,
      when: document.getElementById('conf-when')?.textContent.trim() ?? null,
      text: c.textContent.replace(/\s+/g, ' ').trim(),
      google: href('cal-google'), outlook: href('cal-outlook'), ics: href('cal-ics'), manage: href('manage-link'),
    };
  });
}

async function book(scope, f, instantForSlot) {
  const picked = await pickSlot(scope, instantForSlot);
  await fillForm(scope, f);
  await scope.click('#book-submit');
  return { picked, conf: await confirmation(scope) };
}

// the zone combobox: type part of the name, pick the option by click
async function switchZone(page, zone, typed) {
  await page.click('#tz');
  await page.fill('#tz', typed);
  const opt = `#tz-list li[role="option"][data-tz="${zone}"]`;
  await page.waitForSelector(opt, { state: 'visible' });
  await page.click(opt);
  await page.waitForFunction((z) => document.querySelector('#tz').value === z, zone);
}

async function waitOffsets(scope, suffix) {
  await scope.waitForFunction((s) => {
    const bs = [...document.querySelectorAll('#slots button.slot')];
    return bs.length > 0 && bs.every((b) => b.dataset.start.endsWith(s));
  }, suffix);
  return slotStarts(scope);
}

async function slotLabels(scope) {
  return scope.$$eval('#slots button.slot', (bs) => bs.map((b) => ({ start: b.dataset.start, label: b.textContent.trim() })));
}

// the live region, once it announces the number of slots shown (it may be filled a moment later)
async function statusText(scope) {
  try {
    await scope.waitForFunction(() => {
      const t = document.querySelector('#status')?.textContent || '';
      const n = document.querySelectorAll('#slots button.slot').length;
      return n > 0 && new RegExp(`(^|\\D)${n}(\\D|$)`).test(t);
    }, null, { timeout: 3000 });
  } catch { /* report what is there; the test judges it */ }
  return scope.$eval('#status', (e) => ({ text: e.textContent.trim(), live: e.getAttribute('aria-live') }));
}

// ---------------------------------------------------------------------------------------------
// keyboard

async function active(page) {
  return page.evaluate(() => {
    const e = document.activeElement;
    if (!e || e === document.body) return null;
    const cs = getComputedStyle(e);
    return {
      id: e.id, tag: e.tagName.toLowerCase(), cls: e.className, date: e.dataset?.date ?? null,
      start: e.dataset?.start ?? null,
      outlineStyle: cs.outlineStyle, outlineWidth: cs.outlineWidth, outlineColor: cs.outlineColor,
      boxShadow: cs.boxShadow, focusVisible: e.matches(':focus-visible'),
    };
  });
}

// Tab (or Shift+Tab) until the focused element matches `sel`; at most `max` presses
async function focusByTab(page, sel, dir = 'forward', max = 200) {
  const key = dir === 'forward' ? 'Tab' : 'Shift+Tab';
  for (let i = 0; i <= max; i++) {
    if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), sel)) return i;
    await page.keyboard.press(key);
  }
  throw new Error(`${sel} not reached with ${max} presses of ${key}; focus is on ${JSON.stringify(await active(page))}`);
}

// Moves focus to the day button: arrow keys in a roving grid, otherwise Tab
async function focusDayByKeys(page, date) {
  const target = `button.day[data-date="${date}"]`;
  await focusByTab(page, 'button.day');
  for (let i = 0; i < 80; i++) {
    const a = await active(page);
    if (a && a.date === date) return;
    const before = a && a.date;
    await page.keyboard.press(before && before < date ? 'ArrowRight' : 'ArrowLeft');
    const after = (await active(page))?.date;
    if (after === before) await page.keyboard.press('Tab');
  }
  throw new Error(`could not reach ${target} by keyboard`);
}

async function focusSlotByKeys(page, instant) {
  await focusByTab(page, '#slots button.slot');
  for (let i = 0; i < 80; i++) {
    const a = await active(page);
    if (a && a.start && same(a.start, instant)) return;
    const before = a && a.start;
    await page.keyboard.press('ArrowDown');
    const after = (await active(page))?.start;
    if (after === before) await page.keyboard.press('Tab');
  }
  throw new Error(`could not reach the slot ${instant} by keyboard`);
}

async function unlabelled(page) {
  return page.evaluate(() => {
    const bad = [];
    for (const e of document.querySelectorAll('#app input, #app select, #app textarea, #app button')) {
      if (e.type === 'hidden' || e.offsetParent === null) continue;
      const name = (e.labels && [...e.labels].map((l) => l.textContent).join(' ').trim())
        || e.getAttribute('aria-label')
        || (e.getAttribute('aria-labelledby') || '').split(/\s+/).map((id) => document.getElementById(id)?.textContent || '').join(' ').trim()
        || (e.tagName === 'BUTTON' ? e.textContent.trim() : '') || e.getAttribute('title');
      if (!name) bad.push(e.outerHTML.slice(0, 120));
    }
    return bad;
  });
}

// ---------------------------------------------------------------------------------------------
// scenarios

const scenarios = {
  // 1 + 8: a person's flow, the zone switch, the required question, escaping
  async person() {
    const r = {};
    const page = await newPage('person', { timezoneId: cfg.browser_tz });
    await step('booking-page', page, async () => {
      await page.goto(url(`/${cfg.slug}`));
      await page.waitForSelector('ul#event-types a.event-type');
      r.page = await page.evaluate(() => ({
        header: document.querySelector('header#page-header')?.textContent ?? null,
        links: [...document.querySelectorAll('ul#event-types > li > a.event-type')].map((a) => ({ href: a.getAttribute('href'), text: a.textContent })),
        view: document.querySelector('#app')?.dataset.view,
      }));
      r.page_injected = await injected(page);
    });
    await step('event-page', page, async () => {
      await page.click(`a.event-type[href="/${cfg.slug}/${cfg.event_slug}"]`);
      await page.waitForURL(url(`/${cfg.slug}/${cfg.event_slug}`));
      await page.waitForSelector('h1#event-name');
      r.event_name = (await page.textContent('h1#event-name')).trim();
      r.tz_before = await page.inputValue('#tz');
      await waitSlots(page);
      r.labels_before = await slotLabels(page);
      r.status_before = await statusText(page);
    });
    await step('zone-tokyo', page, async () => {
      // the slots are asked for again in the new zone (the month shown may have none left there)
      const zoneParam = `timezone=${encodeURIComponent(cfg.zone)}`;
      const refetched = page.waitForResponse((resp) => resp.url().includes('/api/availability/')
        && (resp.url().includes(zoneParam) || resp.url().includes(`timezone=${cfg.zone}`)));
      await switchZone(page, cfg.zone, cfg.zone_typed);
      await refetched;
      r.tz_after = await page.inputValue('#tz');
      r.requests_after_zone = page.requests.filter((q) => q.url.includes('/api/availability/')).map((q) => q.url);
    });
    await step('day', page, async () => {
      await pickDay(page, cfg.date);
      await waitOffsets(page, cfg.zone_offset);
      r.day_labels = await slotLabels(page);
      r.status_day = await statusText(page);
    });
    await step('slot', page, async () => {
      r.picked = await pickSlot(page, cfg.start);
      r.form_labels = await page.$$eval('form#book label', (ls) => ls.map((l) => ({ for: l.htmlFor, text: l.textContent })));
      r.form_injected = await injected(page);
      r.required = await page.$eval(`#q-${cfg.required_id}`, (e) => ({ required: e.required, aria: e.getAttribute('aria-required') }));
    });
    const requestsBefore = page.requests.filter((q) => q.method === 'POST').length;
    await step('missing-answer', page, async () => {
      await fillForm(page, { name: cfg.name, email: cfg.email, answers: cfg.answers_without_required });
      await page.click('#book-submit');
      const q = `#q-${cfg.required_id}`;
      await page.waitForSelector(`${q}[aria-invalid="true"]`);
      r.missing = await page.evaluate((sel) => {
        const e = document.querySelector(sel);
        const err = e.closest('div, p, label, fieldset')?.querySelector('.field-error') || document.querySelector('.field-error');
        return { focused: document.activeElement === e, error: err ? err.textContent.trim() : null,
          confirmation: !!document.querySelector('section#confirmation') };
      }, q);
      r.posts_after_missing = page.requests.filter((x) => x.method === 'POST').length - requestsBefore;
    });
    await step('confirmation', page, async () => {
      await fillForm(page, { answers: { [cfg.required_id]: cfg.answers[cfg.required_id] } });
      await page.click('#book-submit');
      r.conf = await confirmation(page);
      r.conf_injected = await injected(page);
    });
    return r;
  },

  // 2: two browsers race for the same slot
  async race() {
    const r = {};
    const a = await newPage('racer-a');
    const b = await newPage('racer-b');
    const open = `/${cfg.slug}/${cfg.event_slug}?date=${cfg.date}&timezone=UTC`;
    await step('both-forms', a, async () => {
      await Promise.all([a.goto(url(open)), b.goto(url(open))]);
      for (const [p, who] of [[a, cfg.a], [b, cfg.b]]) {
        await waitSlots(p);
        await pickSlot(p, cfg.start);
        await fillForm(p, who);
      }
      await shot(b, 'both-forms-b');
    });
    await step('submit-both', a, async () => {
      await Promise.all([a.click('#book-submit'), b.click('#book-submit')]);
      const outcome = (p) => p.waitForFunction(() => {
        if (document.querySelector('section#confirmation')) return 'booked';
        const e = document.querySelector('#error');
        return e && /taken/i.test(e.textContent) ? 'taken' : false;
      }).then((h) => h.jsonValue());
      [r.a, r.b] = await Promise.all([outcome(a), outcome(b)]);
      await shot(b, 'submit-both-b');
    });
    const lp = r.a === 'taken' ? a : (r.b === 'taken' ? b : null);
    if (lp) {
      await step('fresh-slots', lp, async () => {
        r.error = (await lp.textContent('#error')).trim();
        // the day's fresh slots: shown again, without the taken one
        await lp.waitForFunction((t) => {
          const bs = [...document.querySelectorAll('#slots button.slot')].filter((x) => x.offsetParent !== null);
          return bs.length > 0 && !bs.some((x) => Date.parse(x.dataset.start) === Date.parse(t));
        }, cfg.start);
        r.fresh = await slotStarts(lp);
        r.loser_requests = lp.requests.map((q) => `${q.method} ${q.url}`);
      });
    }
    return r;
  },

  // 3: the embed, inline and popup, on parent pages of another origin; a forged embed_origin
  async embed() {
    const r = {};
    const page = await newPage('parent-inline');
    // the iframe's height follows the content: it equals the last slotd:resize height and the
    // document inside fits it (no inner scroll bar); polled, as the two documents settle separately
    const fit = async (frameEl) => {
      const frame = await frameEl.contentFrame();
      const deadline = Date.now() + 10000;
      for (;;) {
        const inner = await frame.evaluate(() => ({ scrollHeight: document.documentElement.scrollHeight,
          bodyScroll: document.body.scrollHeight, innerHeight: window.innerHeight }));
        const outer = await frameEl.evaluate((el) => {
          const last = [...window.__msgs].reverse().find((m) => m.data && m.data.type === 'slotd:resize');
          return { iframe: el.getBoundingClientRect().height, last: last ? last.data.height : null };
        });
        const r = { ...inner, ...outer };
        const settled = r.last !== null && Math.abs(r.iframe - r.last) <= 1 && r.scrollHeight <= r.iframe + 1;
        if (settled || Date.now() > deadline) return r;
        await page.waitForTimeout(50);
      }
    };
    let frameEl; let frame;
    await step('inline-loaded', page, async () => {
      await page.goto(cfg.inline_url);
      frameEl = await page.waitForSelector('iframe.slotd-embed');
      frame = await frameEl.contentFrame();
      r.iframe = await frameEl.evaluate((el) => ({ src: el.src, title: el.title, scrolling: el.getAttribute('scrolling'),
        width: el.getBoundingClientRect().width, parentWidth: el.parentElement.getBoundingClientRect().width,
        afterScript: el.previousElementSibling?.tagName === 'SCRIPT' }));
      await waitSlots(frame);
      r.fit_slots = await fit(frameEl);
      r.in_frame = await frame.evaluate(() => {
        const h = document.querySelector('header#page-header');
        return { header_visible: !!h && h.offsetParent !== null && getComputedStyle(h).display !== 'none' && !h.hidden,
          brand: getComputedStyle(document.documentElement).getPropertyValue('--brand').trim() };
      });
    });
    await step('inline-form', page, async () => {
      await pickDay(frame, cfg.date);
      await pickSlot(frame, cfg.start);
      r.fit_form = await fit(frameEl);
    });
    await step('inline-booked', page, async () => {
      await fillForm(frame, cfg.invitee);
      await frame.click('#book-submit');
      r.conf = await confirmation(frame);
      await page.waitForFunction(() => ['slotd:booked', 'schedkit:booked']
        .every((t) => window.__msgs.some((m) => m.data && m.data.type === t)));
      r.fit_conf = await fit(frameEl);
      r.inline_msgs = await page.evaluate(() => window.__msgs);
    });

    const pop = await newPage('parent-popup');
    await step('popup-button', pop, async () => {
      await pop.goto(cfg.popup_url);
      const btn = await pop.waitForSelector('button.slotd-embed-button');
      r.popup_button = (await btn.textContent()).trim();
      r.popup_frames_before = await pop.$$eval('iframe.slotd-embed', (fs) => fs.filter((f) => f.offsetParent !== null).length);
    });
    await step('popup-open', pop, async () => {
      await pop.click('button.slotd-embed-button');
      const ov = await pop.waitForSelector('div.slotd-embed-overlay', { state: 'visible' });
      r.overlay = await ov.evaluate((o) => ({ role: o.getAttribute('role'), modal: o.getAttribute('aria-modal'),
        has_iframe: !!o.querySelector('iframe.slotd-embed'), close: !!o.querySelector('button') }));
      const fe = await pop.waitForSelector('div.slotd-embed-overlay iframe.slotd-embed');
      const f = await fe.contentFrame();
      await waitSlots(f);
      r.popup_src = await fe.getAttribute('src');
    });
    await step('popup-closed', pop, async () => {
      await pop.keyboard.press('Escape');
      await pop.waitForSelector('div.slotd-embed-overlay', { state: 'hidden' });
      r.popup_focus_back = await pop.evaluate(() => document.activeElement?.classList.contains('slotd-embed-button') ?? false);
      r.popup_msgs = await pop.evaluate(() => window.__msgs);
    });
    await step('popup-booked', pop, async () => {
      await pop.click('button.slotd-embed-button');
      const fe = await pop.waitForSelector('div.slotd-embed-overlay iframe.slotd-embed');
      const f = await fe.contentFrame();
      await waitSlots(f);
      await pickDay(f, cfg.date);
      await pickSlot(f, cfg.popup_start);
      await fillForm(f, cfg.popup_invitee);
      await f.click('#book-submit');
      r.popup_conf = await confirmation(f);
      await pop.waitForFunction(() => window.__msgs.some((m) => m.data && m.data.type === 'slotd:booked')
        && (window.__dom || []).some((d) => d.type === 'slotd:booked'));
      r.popup_all_msgs = await pop.evaluate(() => window.__msgs);
      r.popup_dom_events = await pop.evaluate(() => window.__dom);
    });
    await step('popup-closed-button', pop, async () => {
      await pop.click('div.slotd-embed-overlay .slotd-embed-close');
      await pop.waitForSelector('div.slotd-embed-overlay', { state: 'detached' });
      r.popup_focus_back_button = await pop.evaluate(() => document.activeElement?.classList.contains('slotd-embed-button') ?? false);
    });

    // the manage page framed by the parent: rescheduled and cancelled are told to it
    const mp = await newPage('parent-manage');
    await step('manage-embedded-rescheduled', mp, async () => {
      await mp.goto(cfg.manage_url);
      const f = await (await mp.waitForSelector('iframe')).contentFrame();
      await f.waitForSelector('section#manage');
      await f.click('button#reschedule-open');
      await waitSlots(f);
      await pickDay(f, cfg.date);
      await (await slotHandle(f, cfg.manage_new_start)).click();
      await f.click('button#reschedule-confirm');
      await f.waitForSelector('section#manage[data-state="rescheduled"]');
      await mp.waitForFunction(() => window.__msgs.some((m) => m.data && m.data.type === 'slotd:rescheduled'));
      r.manage_resched_msgs = await mp.evaluate(() => window.__msgs);
    });
    await step('manage-embedded-cancelled', mp, async () => {
      await mp.reload();
      const f = await (await mp.waitForSelector('iframe')).contentFrame();
      await f.waitForSelector('section#manage');
      await f.click('button#cancel-open');
      await f.click('button#cancel-confirm');
      await f.waitForSelector('section#manage[data-state="cancelled"]');
      await mp.waitForFunction(() => window.__msgs.some((m) => m.data && m.data.type === 'slotd:cancelled'));
      r.manage_msgs = await mp.evaluate(() => window.__msgs);
    });

    const evil = await newPage('parent-forged');
    await step('forged', evil, async () => {
      await evil.goto(cfg.forged_url);
      const frames = await evil.$$('iframe');
      const fr = await Promise.all(frames.map((f) => f.contentFrame()));
      for (const f of fr) await waitSlots(f);
      await pickDay(fr[0], cfg.date);
      await pickSlot(fr[0], cfg.forged_start);
      await fillForm(fr[0], cfg.forged_invitee);
      await fr[0].click('#book-submit');
      r.forged_conf = await confirmation(fr[0]);
      // absence cannot be waited for: give a stray message a bounded window to arrive
      await evil.waitForTimeout(500);
      r.forged_msgs = await evil.evaluate(() => window.__msgs);
    });
    return r;
  },

  // 4: keyboard only, from the event page to the confirmation
  async keyboard() {
    const r = { focus: {} };
    const page = await newPage('keyboard', { timezoneId: 'UTC' });
    const mark = async (what) => { r.focus[what] = await active(page); };
    await step('event-page', page, async () => {
      await page.goto(url(`/${cfg.slug}/${cfg.event_slug}`));
      await waitSlots(page);
    });
    await step('zone', page, async () => {
      await focusByTab(page, '#tz');
      await mark('tz');
      await page.keyboard.press('Control+A');
      await page.keyboard.type(cfg.zone_typed);
      await page.waitForSelector(`#tz-list li[role="option"][data-tz="${cfg.zone}"]`, { state: 'visible' });
      const refetched = page.waitForResponse((resp) => resp.url().includes('/api/availability/')
        && resp.url().includes(`timezone=${encodeURIComponent(cfg.zone)}`));
      await page.keyboard.press('Enter');
      await page.waitForFunction((z) => document.querySelector('#tz').value === z, cfg.zone);
      await refetched;
    });
    await step('day', page, async () => {
      const want = cfg.date.slice(0, 7);
      for (let i = 0; i < 3 && (await page.getAttribute('#month-label', 'data-month')) !== want; i++) {
        const have = await page.getAttribute('#month-label', 'data-month');
        await focusByTab(page, have < want ? '#next-month' : '#prev-month');
        await page.keyboard.press('Enter');
        await page.waitForFunction((h) => document.querySelector('#month-label').dataset.month !== h, have);
      }
      await focusDayByKeys(page, cfg.date);
      await mark('day');
      await page.keyboard.press('Space');
      await page.waitForSelector(`button.day[data-date="${cfg.date}"][aria-pressed="true"]`);
      await page.waitForFunction((d) => {
        const bs = [...document.querySelectorAll('#slots button.slot')];
        return bs.length > 0 && bs.every((b) => b.dataset.start.startsWith(d));
      }, cfg.date);
      await waitOffsets(page, cfg.zone_offset);
      r.status = await statusText(page);
    });
    await step('slot', page, async () => {
      await focusSlotByKeys(page, cfg.start);
      await mark('slot');
      await page.keyboard.press('Enter');
      await page.waitForSelector('form#book', { state: 'visible' });
    });
    await step('form', page, async () => {
      await focusByTab(page, '#name');
      await mark('name');
      await page.keyboard.type(cfg.name);
      await focusByTab(page, '#email');
      await page.keyboard.type(cfg.email);
      await focusByTab(page, `#q-${cfg.text_q}`);
      await page.keyboard.type(cfg.text_answer);
      await focusByTab(page, `#q-${cfg.check_q}`);
      await mark('checkbox');
      await page.keyboard.press('Space');
      r.checked = await page.isChecked(`#q-${cfg.check_q}`);
      await focusByTab(page, '#book-submit');
      // back and forth: Shift+Tab reaches the checkbox again, Tab the submit button
      await focusByTab(page, `#q-${cfg.check_q}`, 'backward', 10);
      await focusByTab(page, '#book-submit', 'forward', 10);
      await mark('submit');
      r.unlabelled = await unlabelled(page);
    });
    await step('confirmation', page, async () => {
      await page.keyboard.press('Enter');
      r.conf = await confirmation(page);
    });
    return r;
  },

  // 5: a 375 px wide viewport
  async narrow() {
    const r = { widths: {} };
    const page = await newPage('narrow', { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    const width = async (k) => { r.widths[k] = await noHorizontalScroll(page); };
    await step('page', page, async () => {
      await page.goto(url(`/${cfg.slug}`));
      await page.waitForSelector('ul#event-types a.event-type');
      await width('page');
    });
    await step('event', page, async () => {
      await page.goto(url(`/${cfg.slug}/${cfg.event_slug}?timezone=UTC`));
      await waitSlots(page);
      await width('event');
      await pickDay(page, cfg.date);
      await width('day');
    });
    await step('form', page, async () => {
      await pickSlot(page, cfg.start);
      await fillForm(page, cfg.invitee);
      await width('form');
    });
    await step('confirmation', page, async () => {
      await page.click('#book-submit');
      r.conf = await confirmation(page);
      await width('confirmation');
    });
    await step('manage', page, async () => {
      await page.goto(url(r.conf.manage));
      await page.waitForSelector('section#manage');
      await width('manage');
    });
    return r;
  },

  // 6: the manage page: reschedule, then cancel with a reason; a bad token
  async manage() {
    const r = {};
    const page = await newPage('manage');
    await step('booked', page, async () => {
      await page.goto(url(`/${cfg.slug}/${cfg.event_slug}?date=${cfg.date}&timezone=UTC`));
      await waitSlots(page);
      const b = await book(page, cfg.invitee, cfg.start);
      r.conf = b.conf;
    });
    await step('manage-page', page, async () => {
      await page.click('a#manage-link');
      await page.waitForURL(/\/booking\//);
      await page.waitForSelector('section#manage');
      r.manage_url = page.url();
      r.before = await page.evaluate(() => ({ status: document.querySelector('section#manage').dataset.status,
        when: document.querySelector('#booking-when')?.textContent.trim() }));
    });
    await step('reschedule-picker', page, async () => {
      await page.click('button#reschedule-open');
      await page.waitForSelector('#month-label');
      await waitSlots(page);
      await pickDay(page, cfg.new_date);
      const h = await slotHandle(page, cfg.new_start);
      await h.click();
      await page.waitForSelector('button#reschedule-confirm', { state: 'visible' });
      r.reschedule_requests = page.requests.filter((q) => q.url.includes('/slots')).map((q) => q.url);
    });
    await step('rescheduled', page, async () => {
      await page.click('button#reschedule-confirm');
      await page.waitForSelector('section#manage[data-state="rescheduled"]');
      r.after_reschedule = (await page.textContent('#booking-when')).trim();
    });
    await step('cancel-form', page, async () => {
      await page.goto(r.manage_url);
      await page.waitForSelector('section#manage');
      await page.click('button#cancel-open');
      await page.fill('textarea#cancel-reason', cfg.reason);
      r.reason_label = await page.$eval('textarea#cancel-reason', (e) => [...(e.labels || [])].map((l) => l.textContent.trim()).join(' ') || e.getAttribute('aria-label'));
    });
    await step('cancelled', page, async () => {
      await page.click('button#cancel-confirm');
      await page.waitForSelector('section#manage[data-state="cancelled"]');
      r.cancelled_text = (await page.textContent('section#manage')).replace(/\s+/g, ' ').trim();
    });
    await step('bad-token', page, async () => {
      await page.goto(url(`/booking/${cfg.uid_hint || r.manage_url.split('/booking/')[1].split('?')[0]}?token=${'0'.repeat(64)}`));
      await page.waitForFunction(() => (document.querySelector('#error')?.textContent || '').trim().length > 0);
      r.bad_token_error = (await page.textContent('#error')).trim();
      r.bad_token_buttons = await page.$$eval('#cancel-open, #reschedule-open', (bs) => bs.filter((b) => b.offsetParent !== null).length);
    });
    return r;
  },

  // 7: an org's round-robin event type with the host chosen by the invitee
  async org() {
    const r = {};
    const page = await newPage('org');
    await step('org-page', page, async () => {
      await page.goto(url(`/${cfg.slug}`));
      await page.waitForSelector('ul#event-types a.event-type');
      r.links = await page.$$eval('ul#event-types a.event-type', (as) => as.map((a) => a.getAttribute('href')));
      await page.click(`a.event-type[href="/${cfg.slug}/${cfg.event_slug}"]`);
      await page.waitForSelector('select#host');
      r.hosts = await page.$$eval('select#host option', (os) => os.map((o) => ({ value: o.value, text: o.textContent.trim() })));
    });
    await step('host-chosen', page, async () => {
      await page.goto(url(`/${cfg.slug}/${cfg.event_slug}?date=${cfg.date}&timezone=UTC`));
      await page.waitForSelector('select#host');
      await waitSlots(page);
      const n = page.requests.length;
      const answered = page.waitForResponse((resp) => resp.url().includes('/api/availability/')
        && resp.url().includes(`host_id=${cfg.host_id}`));
      await page.selectOption('select#host', String(cfg.host_id));
      await answered;
      await waitSlots(page);
      r.slot_requests = page.requests.slice(n).map((q) => q.url);
    });
    await step('booked', page, async () => {
      const b = await book(page, cfg.invitee, cfg.start);
      r.conf = b.conf;
      r.book_requests = page.requests.filter((q) => q.method === 'POST').map((q) => q.url);
    });
    return r;
  },

  // the chat panel on the booking page: a request, suggestion buttons, one clicked, details, booked
  async chat() {
    const r = {};
    const page = await newPage('chat', { timezoneId: cfg.browser_tz });
    const botCount = () => page.$$eval('#chat-log .msg.bot', (ms) => ms.length);
    const log = () => page.$$eval('#chat-log .msg', (ms) => ms.map((m) => ({
      who: m.classList.contains('user') ? 'user' : 'bot', text: m.textContent.replace(/\s+/g, ' ').trim() })));
    await step('chat-open', page, async () => {
      await page.goto(url(`/${cfg.slug}`));
      const open = await page.waitForSelector('button#chat-open');
      r.expanded_before = await open.getAttribute('aria-expanded');
      r.hidden_before = await page.$eval('section#chat', (s) => s.hidden);
      await open.click();
      await page.waitForSelector('section#chat', { state: 'visible' });
      r.expanded_after = await open.getAttribute('aria-expanded');
      r.input_label = await page.$eval('#chat-input', (e) => [...(e.labels || [])].map((l) => l.textContent.trim()).join(' '));
      r.input_focused = await page.evaluate(() => document.activeElement?.id === 'chat-input');
    });
    await step('suggested', page, async () => {
      await page.fill('#chat-input', cfg.request);
      await page.press('#chat-input', 'Enter');
      await page.waitForSelector('#chat-log button.chat-slot', { state: 'visible' });
      r.suggested = await page.$$eval('#chat-log button.chat-slot', (bs) => bs.map((b) => ({
        start: b.dataset.start, text: b.textContent.trim(), label: b.getAttribute('aria-label') })));
    });
    await step('slot-chosen', page, async () => {
      const n = await botCount();
      const btns = await page.$$('#chat-log button.chat-slot');
      r.clicked = await btns[cfg.pick].getAttribute('data-start');
      await btns[cfg.pick].click();
      await page.waitForFunction((k) => document.querySelectorAll('#chat-log .msg.bot').length > k, n);
    });
    await step('booked', page, async () => {
      await page.fill('#chat-input', cfg.details);
      await page.click('#chat-form button[type="submit"]');
      r.conf = await confirmation(page);
      r.log = await log();
      r.chat_posts = page.requests.filter((q) => q.method === 'POST' && q.url.includes('/api/ai/chat'))
        .map((q) => JSON.parse(q.body || 'null'));
      r.event_types_hidden = await page.$eval('ul#event-types', (u) => u.offsetParent === null);
    });
    return r;
  },

  // deep links (?month=, ?date=), a zone switch that moves the chosen day into the next month,
  // several lengths, seats: one browser, one page each
  async options() {
    const r = {};
    // what the picker shows once the chosen day's slots are drawn
    const state = (p) => p.evaluate(() => ({
      month: document.querySelector('#month-label')?.dataset.month ?? null,
      pressed: [...document.querySelectorAll('button.day[aria-pressed="true"]')].map((b) => b.dataset.date),
      slots: [...document.querySelectorAll('#slots button.slot')].map((b) => ({ start: b.dataset.start,
        label: b.textContent.replace(/\s+/g, ' ').trim() })),
    }));
    // the day's slots once drawn anew after a change (the old heading is marked stale first)
    const markStale = (p) => p.evaluate(() => { const h = document.querySelector('#slots-heading'); if (h) h.dataset.stale = '1'; });
    const redrawn = (p) => p.waitForFunction(() => document.querySelector('#slots-heading:not([data-stale])')
      && document.querySelectorAll('#slots button.slot').length > 0);
    const drawn = async (p) => {
      await p.waitForFunction(() => {
        const d = document.querySelector('button.day[aria-pressed="true"]')?.dataset.date;
        const bs = [...document.querySelectorAll('#slots button.slot')];
        return d && bs.length > 0 && bs.every((b) => b.dataset.start.startsWith(d));
      });
      return state(p);
    };

    const deep = await newPage('deep', { timezoneId: 'UTC' });
    await step('deep-month', deep, async () => {
      await deep.goto(url(`/${cfg.deep.slug}/${cfg.deep.event_slug}?month=${cfg.deep.month}&timezone=UTC`));
      r.deep_month = await drawn(deep);
    });
    await step('deep-date', deep, async () => {
      await deep.goto(url(`/${cfg.deep.slug}/${cfg.deep.event_slug}?date=${cfg.deep.date}&timezone=UTC`));
      r.deep_date = await drawn(deep);
    });

    const zp = await newPage('zone', { timezoneId: 'UTC' });
    await step('zone-before', zp, async () => {
      await zp.goto(url(`/${cfg.zone.slug}/${cfg.zone.event_slug}?date=${cfg.zone.date}&timezone=${encodeURIComponent(cfg.zone.from)}`));
      r.zone_before = await drawn(zp);
    });
    await step('zone-after', zp, async () => {
      await switchZone(zp, cfg.zone.to, cfg.zone.to_typed);
      await waitOffsets(zp, cfg.zone.to_offset);
      r.zone_after = await drawn(zp);
      r.zone_status = await statusText(zp);
    });

    const lp = await newPage('lengths', { timezoneId: 'UTC' });
    await step('lengths-default', lp, async () => {
      await lp.goto(url(`/${cfg.lengths.slug}/${cfg.lengths.event_slug}?date=${cfg.lengths.date}&timezone=UTC`));
      r.len_default = await drawn(lp);
      r.len_options = await lp.$$eval('select#duration option', (os) => os.map((o) => ({ value: o.value, text: o.textContent.trim() })));
      r.len_selected = await lp.inputValue('select#duration');
    });
    await step('lengths-60', lp, async () => {
      await markStale(lp);
      const answered = lp.waitForResponse((resp) => resp.url().includes('/api/availability/') && resp.url().includes('duration=60'));
      await lp.selectOption('select#duration', '60');
      await answered;
      await redrawn(lp);
      r.len_60 = await drawn(lp);
      r.len_duration_text = (await lp.textContent('#event-duration')).trim();
    });
    await step('lengths-booked', lp, async () => {
      await pickSlot(lp, cfg.lengths.start);
      r.len_when = (await lp.textContent('#book-when')).trim();
      await fillForm(lp, cfg.lengths.invitee);
      await lp.click('#book-submit');
      r.len_conf = await confirmation(lp);
      r.len_posts = lp.requests.filter((q) => q.method === 'POST' && q.url.includes('/api/book/')).map((q) => JSON.parse(q.body || 'null'));
    });

    const sp = await newPage('seats', { timezoneId: 'UTC' });
    const seatsUrl = url(`/${cfg.seats.slug}/${cfg.seats.event_slug}?date=${cfg.seats.date}&timezone=UTC`);
    await step('seats-before', sp, async () => {
      await sp.goto(seatsUrl);
      r.seats_before = await drawn(sp);
    });
    await step('seats-form', sp, async () => {
      await pickSlot(sp, cfg.seats.start);
      r.seats_input = await sp.$eval('input#seats', (e) => ({ type: e.type, min: e.min, max: e.max, value: e.value,
        label: [...(e.labels || [])].map((l) => l.textContent.trim()).join(' ') }));
      await fillForm(sp, cfg.seats.invitee);
      await sp.fill('input#seats', String(cfg.seats.count));
    });
    await step('seats-booked', sp, async () => {
      await sp.click('#book-submit');
      r.seats_conf = await confirmation(sp);
    });
    await step('seats-after', sp, async () => {
      await sp.goto(seatsUrl);
      r.seats_after = await drawn(sp);
    });
    return r;
  },
};

// ---------------------------------------------------------------------------------------------

try {
  if (!scenarios[scenario]) throw new Error(`unknown scenario ${scenario}`);
  browser = await chromium.launch({
    executablePath: cfg.chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const r = await scenarios[scenario]();
  Object.assign(out, r);
  out.ok = true;
} catch (e) {
  out.error = String((e && e.stack) || e);
  for (const { label, page } of pages) {
    try {
      await shot(page, `${label}-FAILED`);
    } catch { /* the page may be gone */ }
  }
} finally {
  if (browser) await browser.close().catch(() => {});
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
