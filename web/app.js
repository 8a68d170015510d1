/* slotd booking pages: the person's or organisation's page (with the chat panel), the event page
 * (month, zone, slots, questions, booking, confirmation), the invitee's manage page (cancel,
 * reschedule) and embed mode. Vanilla JS, no build step. The shell (web/page.html) gives
 * #app[data-view, data-slug, data-event-slug, data-uid]; everything else comes from the public
 * JSON API. Every user-supplied string reaches the page through textContent or an attribute
 * value, never as markup; styles are set only through CSSOM (the CSP forbids inline styles). */
'use strict';
(() => {
  const app = document.getElementById('app');
  if (!app) return;
  const ds = app.dataset;
  const q = new URLSearchParams(location.search);
  const EMBED = q.get('embed') === '1';
  const HIDE_HEADER = q.get('hide_header') === '1';
  const LOCALE = 'en-GB';

  /* ---------- DOM helpers ---------- */
  const BOOL = { hidden: 1, disabled: 1, required: 1, checked: 1, noValidate: 1 };
  function el(tag, props, ...kids) {
    const n = document.createElement(tag);
    for (const k in props || {}) {
      const v = props[k];
      if (v == null || v === false) continue;
      if (k === 'text') n.textContent = v;
      else if (k === 'class') n.className = v;
      else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
      else if (BOOL[k]) n[k] = true;
      else n.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of kids.flat()) if (c != null && c !== false) n.append(c);
    return n;
  }
  const $ = (sel, root) => (root || document).querySelector(sel);
  const clear = (n) => { n.replaceChildren(); return n; };
  function focusEl(n) {
    if (!n) return;
    if (!n.hasAttribute('tabindex') && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(n.tagName)) n.setAttribute('tabindex', '-1');
    n.focus();
  }

  /* ---------- persistent regions ---------- */
  const header = el('header', { id: 'page-header', hidden: HIDE_HEADER });
  const main = el('main', { id: 'main' });
  const status = el('div', { id: 'status', class: 'visually-hidden', 'aria-live': 'polite', 'aria-atomic': 'true' });
  const errorBox = el('div', { id: 'error', role: 'alert', class: 'error', hidden: true });
  clear(app).append(header, errorBox, main, status);
  if (EMBED) document.documentElement.classList.add('embed');

  let statusTimer = 0, lastAnnounced = '';
  function announce(text) {
    lastAnnounced = text;
    clearTimeout(statusTimer);
    status.textContent = '';
    statusTimer = setTimeout(() => { status.textContent = text; }, 60);
  }
  /* Shows an error in words; `near` moves the alert next to where the eye is (it stays one node). */
  function showError(text, near) {
    if (near && near.parentNode) near.parentNode.insertBefore(errorBox, near);
    else app.insertBefore(errorBox, main);
    errorBox.textContent = text;
    errorBox.hidden = false;
  }
  function hideError() { errorBox.textContent = ''; errorBox.hidden = true; app.insertBefore(errorBox, main); }
  /* Replaces the view; the alert goes home first so it never leaves the document with the old view. */
  function setMain(...nodes) { hideError(); clear(main).append(...nodes); }

  /* ---------- brand colour ---------- */
  function validHex(c) {
    if (typeof c !== 'string') return null;
    const m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(c.trim());
    if (!m) return null;
    let h = m[1];
    if (h.length === 3) h = h.replace(/./g, (x) => x + x);
    return '#' + h.toLowerCase();
  }
  const THEME = validHex(q.get('theme'));
  function applyBrand(color) {
    const c = THEME || validHex(color);
    if (!c) return;
    const r = parseInt(c.slice(1, 3), 16), g = parseInt(c.slice(3, 5), 16), b = parseInt(c.slice(5, 7), 16);
    const lum = (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
    const root = document.documentElement.style;
    root.setProperty('--brand', c);
    root.setProperty('--brand-fg', lum > 0.6 ? '#111' : '#fff');
  }
  applyBrand(null);

  /* ---------- API ---------- */
  async function api(method, path, body, accept) {
    const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try { res = await fetch(path, init); } catch (e) {
      return { status: 0, data: null, error: 'Could not reach the server. Check your connection and try again.' };
    }
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    const r = { status: res.status, data, ok: res.ok };
    if (!res.ok) r.error = errorWords(res, data);
    return r;
  }
  function errorWords(res, data) {
    const e = data && data.error;
    if (res.status === 429) {
      const s = parseInt(res.headers.get('Retry-After') || '', 10);
      return 'Too many requests. Please try again' + (s > 0 ? ' in ' + s + ' second' + (s === 1 ? '' : 's') : ' in a moment') + '.';
    }
    let words = typeof e === 'string' ? e : e && typeof e.message === 'string' ? e.message : '';
    if (!words) words = res.status >= 500 ? 'The server had a problem. Please try again.' : 'Something went wrong (' + res.status + ').';
    return words.charAt(0).toUpperCase() + words.slice(1) + (/[.!?]$/.test(words) ? '' : '.');
  }
  const enc = encodeURIComponent;

  /* ---------- dates and zones ---------- */
  function zoneOk(tz) {
    if (typeof tz !== 'string' || !tz) return false;
    try { new Intl.DateTimeFormat('en', { timeZone: tz }); return true; } catch (e) { return false; }
  }
  const browserTz = (() => { try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } catch (e) { return 'UTC'; } })();
  function allZones() {
    let z = [];
    try { z = Intl.supportedValuesOf('timeZone').slice(); } catch (e) { z = [browserTz]; }
    /* ICU lists some zones under their old names (Asia/Calcutta); offer today's names too. */
    for (const n of ['UTC', 'Asia/Kolkata', 'Asia/Ho_Chi_Minh', 'Europe/Kyiv', 'Asia/Kathmandu', 'Asia/Yangon', 'America/Nuuk']) {
      if (!z.includes(n) && (n === 'UTC' || zoneOk(n))) z.push(n);
    }
    return z.sort();
  }
  const pad = (n) => String(n).padStart(2, '0');
  /* Today's civil date (YYYY-MM-DD) in the zone, from the clock, not from the browser's zone. */
  function todayIn(tz) {
    const p = {};
    for (const x of new Intl.DateTimeFormat('en-US', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(new Date())) p[x.type] = x.value;
    return p.year + '-' + p.month + '-' + p.day;
  }
  /* Civil dates are handled as UTC midnights so the browser's own zone never enters. */
  const civil = (d) => new Date(d + 'T00:00:00Z');
  const dayFmt = new Intl.DateTimeFormat(LOCALE, { timeZone: 'UTC', weekday: 'long', day: 'numeric', month: 'long' });
  const dayYearFmt = new Intl.DateTimeFormat(LOCALE, { timeZone: 'UTC', weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  const monthFmt = new Intl.DateTimeFormat(LOCALE, { timeZone: 'UTC', month: 'long', year: 'numeric' });
  const fmtDay = (d) => dayFmt.format(civil(d));
  function addMonths(ym, n) {
    const y = +ym.slice(0, 4), m = +ym.slice(5, 7) - 1 + n;
    const d = new Date(Date.UTC(y, m, 1));
    return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1);
  }
  const daysIn = (ym) => new Date(Date.UTC(+ym.slice(0, 4), +ym.slice(5, 7), 0)).getUTCDate();
  /* An instant (RFC 3339 with any offset) on the wall clock of tz: {date, time}. */
  function wall(iso, tz) {
    const d = new Date(iso);
    if (isNaN(d)) return null;
    let zone = zoneOk(tz) ? tz : 'UTC';
    const p = {};
    for (const x of new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).formatToParts(d)) p[x.type] = x.value;
    return { date: p.year + '-' + p.month + '-' + p.day, time: (p.hour === '24' ? '00' : p.hour) + ':' + p.minute };
  }
  /* "Wednesday 2 December 2026, 09:00 – 09:30 (America/New York)" */
  function whenText(start, end, tz) {
    const a = wall(start, tz), b = end ? wall(end, tz) : null;
    if (!a) return '';
    let s = dayYearFmt.format(civil(a.date)) + ', ' + a.time;
    if (b) s += ' – ' + (b.date === a.date ? b.time : dayFmt.format(civil(b.date)) + ' ' + b.time);
    return s + ' (' + zoneName(tz) + ')';
  }
  function recurText(r) {
    if (!r || !r.occurrences) return '';
    const unit = r.frequency === 'monthly' ? 'month' : 'week';
    const every = r.interval > 1 ? 'every ' + r.interval + ' ' + unit + 's' : unit === 'month' ? 'monthly' : 'weekly';
    return 'Repeats ' + every + ', ' + r.occurrences + ' times in all: booking one time books the series.';
  }
  const zoneName = (tz) => String(tz || 'UTC').replace(/_/g, ' ');
  const minutes = (n) => n + ' min';
  function priceText(price, currency) {
    if (price == null || price === '' || Number(price) === 0) return '';
    try { return new Intl.NumberFormat(LOCALE, { style: 'currency', currency: currency || 'USD' }).format(Number(price)); } catch (e) { return price + ' ' + (currency || ''); }
  }

  /* ---------- embed messages ---------- */
  const PARENT_ORIGIN = (() => {
    if (!EMBED || window.parent === window) return null;
    const o = q.get('embed_origin');
    if (!o) return null;
    let u;
    try { u = new URL(o); } catch (e) { return null; }
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.origin !== o) return null;
    if (location.ancestorOrigins && location.ancestorOrigins[0] !== o) return null;
    return o;
  })();
  function post(msg) {
    if (PARENT_ORIGIN) window.parent.postMessage(msg, PARENT_ORIGIN);
  }
  function publicBooking(b, requiresConfirmation) {
    return {
      uid: b.uid, status: b.status, start: b.start, end: b.end, start_time: b.start_time, end_time: b.end_time,
      timezone: b.timezone, event_name: b.event_name, invitee_name: b.invitee_name, invitee_email: b.invitee_email,
      confirmation_number: b.confirmation_number, requires_confirmation: !!requiresConfirmation,
    };
  }
  function postBooked(b, requiresConfirmation) {
    const rc = !!requiresConfirmation || b.status === 'pending';
    post({ type: 'slotd:booked', booking: publicBooking(b, rc) });
    post({
      type: 'schedkit:booked',
      payload: { id: b.uid, status: b.status, requires_confirmation: rc, attendee_name: b.invitee_name, start_time: b.start },
      data: { uid: b.uid, start_time: b.start, attendee_name: b.invitee_name, attendee_email: b.invitee_email, attendee_timezone: b.timezone, status: b.status, requires_confirmation: rc },
    });
  }
  if (PARENT_ORIGIN) {
    let last = -1;
    const measure = () => {
      const h = Math.ceil(document.body.getBoundingClientRect().height);
      if (h !== last) { last = h; post({ type: 'slotd:resize', height: h }); }
    };
    if (window.ResizeObserver) {
      const ro = new ResizeObserver(measure);
      ro.observe(document.documentElement);
      ro.observe(document.body);
    }
    window.addEventListener('load', measure);
    measure();
  }
  /* Links inside an embed keep the embed's parameters, so the next page is framed alike. */
  function embedHref(href) {
    if (!EMBED) return href;
    const u = new URL(href, location.href);
    for (const k of ['embed', 'theme', 'hide_header', 'embed_origin']) if (q.has(k)) u.searchParams.set(k, q.get(k));
    return u.pathname + u.search;
  }
  function linkOut(a) {
    if (EMBED) { a.target = '_blank'; a.rel = 'noopener'; }
    return a;
  }

  /* ---------- header ---------- */
  function renderHeader(page, asLink) {
    clear(header);
    const name = page.display_name || page.slug || '';
    header.append(asLink
      ? el('p', { class: 'page-name' }, el('a', { href: '/' + enc(page.slug), onclick: followEmbed }, name))
      : el('h1', { class: 'page-name', text: name }));
    if (page.bio) header.append(el('p', { class: 'bio', text: page.bio }));
    if (page.welcome_message) header.append(el('p', { class: 'welcome', text: page.welcome_message }));
    applyBrand(page.brand_color);
  }
  function followEmbed(e) {
    if (!EMBED) return;
    e.preventDefault();
    location.href = embedHref(e.currentTarget.getAttribute('href'));
  }

  /* ---------- the page: event types + chat ---------- */
  async function viewPage() {
    const slug = ds.slug || '';
    const r = await api('GET', '/api/public/' + enc(slug));
    if (!r.ok) return r.status === 404 ? viewNotFound() : showError(r.error);
    const page = r.data;
    renderHeader(page, false);
    document.title = page.display_name || page.slug;
    const list = el('ul', { id: 'event-types' });
    for (const t of page.event_types || []) {
      const meta = [minutes(t.duration_minutes)];
      const price = priceText(t.price, t.currency);
      if (price) meta.push(price);
      if (t.requires_confirmation) meta.push('needs the host’s confirmation');
      const hosts = (t.hosts || []).map((h) => h.name).filter(Boolean);
      list.append(el('li', null, el('a', { class: 'event-type', href: '/' + enc(page.slug) + '/' + enc(t.slug), onclick: followEmbed },
        el('span', { class: 'et-name', text: t.name }),
        el('span', { class: 'et-meta', text: meta.join(' · ') }),
        t.description ? el('span', { class: 'et-desc', text: t.description }) : null,
        hosts.length > 1 && t.scheduling ? el('span', { class: 'et-hosts', text: 'With ' + hosts.join(', ') }) : null)));
    }
    clear(main).append(el('h2', { class: 'section-title', text: 'Choose a meeting' }), list);
    if (!list.children.length) main.append(el('p', { class: 'muted', text: 'Nothing can be booked here right now.' }));
    main.append(chatPanel(page));
  }

  function chatPanel(page) {
    const log = el('div', { id: 'chat-log', 'aria-live': 'polite', 'aria-label': 'Conversation' });
    const input = el('input', { id: 'chat-input', type: 'text', autocomplete: 'off', maxlength: '2000', placeholder: 'e.g. a 30 minute call tomorrow afternoon' });
    const send = el('button', { type: 'submit', class: 'btn', text: 'Send' });
    const form = el('form', { id: 'chat-form' },
      el('label', { for: 'chat-input', class: 'visually-hidden', text: 'Message to the booking assistant' }),
      el('div', { class: 'row' }, input, send));
    const section = el('section', { id: 'chat', hidden: true, 'aria-labelledby': 'chat-title' },
      el('h2', { id: 'chat-title', class: 'section-title', text: 'Book by chat' }),
      el('p', { class: 'muted', text: 'Say what you need and when, in English. The assistant finds free times.' }),
      log, form);
    const open = el('button', { id: 'chat-open', type: 'button', class: 'btn btn-ghost', 'aria-expanded': 'false', 'aria-controls': 'chat', text: 'Book by chat' });
    open.addEventListener('click', () => {
      const show = section.hidden;
      section.hidden = !show;
      open.setAttribute('aria-expanded', String(show));
      if (show) input.focus();
    });
    let session = null, busy = false;
    const ORD = ['first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth'];
    function say(who, text) {
      const m = el('div', { class: 'msg ' + who }, el('span', { class: 'visually-hidden', text: who === 'user' ? 'You: ' : 'Assistant: ' }), text);
      log.append(m);
      m.scrollIntoView({ block: 'nearest' });
      return m;
    }
    async function ask(text) {
      if (busy) return;
      busy = true; send.disabled = true;
      say('user', text);
      const body = { booking_page_slug: page.slug, message: text, timezone: browserTz };
      if (session) body.session_id = session;
      const r = await api('POST', '/api/ai/chat', body);
      busy = false; send.disabled = false;
      if (!r.ok) { say('bot', r.status === 404 ? 'The assistant is not available here.' : r.error); return; }
      session = r.data.session_id || session;
      const m = say('bot', r.data.message || '');
      const a = r.data.action || {};
      if (a.type === 'suggest_booking' && Array.isArray(a.slots) && a.slots.length) {
        const tz = a.timezone || browserTz;
        const row = el('div', { class: 'chat-slots' });
        a.slots.forEach((s, i) => {
          const w = wall(s.start, tz);
          row.append(el('button', {
            type: 'button', class: 'chat-slot', 'data-start': s.start,
            'aria-label': fmtDay(w.date) + ' ' + w.time + ' (' + zoneName(tz) + ')',
            onclick: () => ask('the ' + (ORD[i] || (i + 1) + 'th') + ' one'),
          }, fmtDay(w.date).replace(/ .*/, '').slice(0, 3) + ' ' + w.time));
        });
        m.append(row);
      } else if (a.type === 'clarify' && (a.missing || []).includes('answers') && a.event_slug) {
        const u = new URLSearchParams();
        if (a.preferred_dates && a.preferred_dates[0]) u.set('date', a.preferred_dates[0]);
        if (a.timezone) u.set('timezone', a.timezone);
        const href = '/' + enc(page.slug) + '/' + enc(a.event_slug) + (u.toString() ? '?' + u : '');
        m.append(' ', el('a', { class: 'chat-link', href, onclick: followEmbed, text: 'Answer the questions on the booking page' }));
      } else if (a.type === 'booked' && a.booking) {
        const b = a.booking;
        postBooked(b, b.status === 'pending');
        /* The confirmation replaces the list of event types; the conversation stays below it. */
        hideError();
        for (const n of [...main.children]) if (n !== wrap) n.hidden = true;
        const old = $('#confirmation');
        if (old) old.remove();
        main.insertBefore(confirmation(b, b.event_name || '', b.status === 'pending'), wrap);
        focusEl($('#conf-title'));
      }
    }
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = input.value.trim();
      if (!text) { input.focus(); return; }
      input.value = '';
      ask(text);
    });
    const wrap = el('div', { class: 'chat-wrap' }, open, section);
    return wrap;
  }

  /* ---------- time zone combobox ---------- */
  function zonePicker(current, onChange) {
    const zones = allZones();
    if (!zones.includes(current)) zones.push(current);
    const input = el('input', {
      id: 'tz', type: 'text', role: 'combobox', autocomplete: 'off', spellcheck: 'false',
      'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': 'tz-list',
    });
    input.value = current;
    const list = el('ul', { id: 'tz-list', role: 'listbox', 'aria-label': 'Time zones', hidden: true });
    let value = current, matches = [], active = -1;
    const norm = (s) => s.toLowerCase().replace(/[\s_]+/g, '_');
    function render(filter) {
      const f = norm(filter || '');
      matches = f ? zones.filter((z) => norm(z).includes(f)) : zones;
      clear(list);
      matches.forEach((z, i) => list.append(el('li', {
        id: 'tz-opt-' + i, role: 'option', 'data-tz': z, 'aria-selected': 'false',
        class: z === value ? 'current' : null,
      }, zoneName(z))));
      if (!matches.length) list.append(el('li', { class: 'none', text: 'No matching time zone' }));
      setActive(f ? 0 : matches.indexOf(value));
    }
    function setActive(i) {
      const old = list.querySelector('[aria-selected="true"]');
      if (old) old.setAttribute('aria-selected', 'false');
      active = matches.length ? Math.max(-1, Math.min(i, matches.length - 1)) : -1;
      if (active < 0) { input.removeAttribute('aria-activedescendant'); return; }
      const li = list.children[active];
      li.setAttribute('aria-selected', 'true');
      input.setAttribute('aria-activedescendant', li.id);
      li.scrollIntoView({ block: 'nearest' });
    }
    function openList(filter) {
      if (list.hidden) { list.hidden = false; input.setAttribute('aria-expanded', 'true'); }
      render(filter);
    }
    function close(restore) {
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      input.removeAttribute('aria-activedescendant');
      if (restore) input.value = value;
    }
    function pick(z) {
      close(false);
      input.value = z;
      if (z !== value) { value = z; onChange(z); }
    }
    input.addEventListener('input', () => openList(input.value));
    input.addEventListener('click', () => { if (list.hidden) { input.select(); openList(''); } });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        if (list.hidden) { openList(''); return; }
        setActive(active + (e.key === 'ArrowDown' ? 1 : -1));
      } else if (e.key === 'Enter') {
        if (list.hidden) return;
        e.preventDefault();
        const z = matches[active >= 0 ? active : 0];
        if (z) pick(z);
      } else if (e.key === 'Escape') {
        if (!list.hidden) { e.preventDefault(); close(true); }
      } else if (e.key === 'Tab') close(true);
    });
    input.addEventListener('blur', () => close(true));
    list.addEventListener('mousedown', (e) => e.preventDefault());
    list.addEventListener('click', (e) => {
      const li = e.target.closest('li[data-tz]');
      if (li) pick(li.dataset.tz);
    });
    return el('div', { class: 'field tz-field' },
      el('label', { for: 'tz', text: 'Time zone' }),
      el('div', { class: 'combo' }, input, list));
  }

  /* ---------- month, days and slots ---------- */
  /* opts: {tz, load(start, end, tz) -> api result with data.slots, onPick(slot, date), onZone(tz),
   * controls: [elements shown above the month], date, month} */
  function picker(opts) {
    let tz = opts.tz, month, byDate = {}, selected = null, seq = 0;
    const label = el('h2', { id: 'month-label', 'aria-live': 'off' });
    const prev = el('button', { id: 'prev-month', type: 'button', class: 'nav', 'aria-label': 'Previous month', text: '‹' });
    const next = el('button', { id: 'next-month', type: 'button', class: 'nav', 'aria-label': 'Next month', text: '›' });
    const days = el('div', { class: 'days', role: 'group', 'aria-labelledby': 'month-label' });
    const slots = el('div', { id: 'slots' });
    const weekdays = el('div', { class: 'weekdays', 'aria-hidden': 'true' });
    for (const d of ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']) weekdays.append(el('span', { text: d }));
    const root = el('div', { class: 'picker' },
      el('div', { class: 'controls' }, zonePicker(tz, changeZone), opts.controls || []),
      el('div', { class: 'cal' }, el('div', { class: 'month-nav' }, prev, label, next), weekdays, days),
      slots);
    prev.addEventListener('click', () => go(addMonths(month, -1)));
    next.addEventListener('click', () => go(addMonths(month, 1)));
    days.addEventListener('keydown', (e) => {
      const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 }[e.key];
      const b = e.target.closest('button.day');
      if (!step || !b) return;
      e.preventDefault();
      const all = [...days.querySelectorAll('button.day')];
      let i = all.indexOf(b) + step;
      while (i >= 0 && i < all.length && all[i].disabled) i += step > 0 ? 1 : -1;
      if (all[i]) all[i].focus();
    });

    async function load(m) {
      const my = ++seq;
      month = m;
      byDate = {};
      drawMonth(true);
      slots.setAttribute('aria-busy', 'true');
      const r = await opts.load(m + '-01', m + '-' + pad(daysIn(m)), tz);
      if (my !== seq) return false;
      slots.removeAttribute('aria-busy');
      if (!r.ok) { showError(r.error); drawMonth(false); return false; }
      byDate = (r.data && r.data.slots && !Array.isArray(r.data.slots)) ? r.data.slots : {};
      drawMonth(false);
      return true;
    }
    const firstDate = () => Object.keys(byDate).filter((d) => byDate[d] && byDate[d].length).sort()[0] || null;
    function drawMonth(loading) {
      const today = todayIn(tz);
      label.textContent = monthFmt.format(civil(month + '-01'));
      label.dataset.month = month;
      prev.disabled = month <= today.slice(0, 7);
      clear(days);
      const lead = (civil(month + '-01').getUTCDay() + 6) % 7;
      for (let i = 0; i < lead; i++) days.append(el('span', { class: 'blank', 'aria-hidden': 'true' }));
      for (let d = 1, n = daysIn(month); d <= n; d++) {
        const date = month + '-' + pad(d);
        const count = (byDate[date] || []).length;
        const b = el('button', {
          type: 'button', class: 'day' + (date === today ? ' today' : '') + (count ? ' has' : ''), 'data-date': date,
          disabled: !count, 'aria-pressed': count ? String(date === selected) : null,
          'aria-label': fmtDay(date) + (loading ? '' : count ? ', ' + count + ' time' + (count === 1 ? '' : 's') : ', no times'),
        }, String(d));
        b.addEventListener('click', () => select(date, true));
        days.append(b);
      }
    }
    function select(date, moveFocus) {
      selected = date;
      for (const b of days.querySelectorAll('button.day')) if (!b.disabled) b.setAttribute('aria-pressed', String(b.dataset.date === date));
      drawSlots(moveFocus);
    }
    function drawSlots(moveFocus) {
      clear(slots);
      if (!selected) {
        const t = 'No free times in ' + monthFmt.format(civil(month + '-01')) + '.';
        slots.append(el('p', { class: 'muted', text: t + ' Try the next month.' }));
        announce(t);
        return;
      }
      const list = byDate[selected] || [];
      const h = el('h3', { id: 'slots-heading', tabindex: '-1', text: fmtDay(selected) });
      const ul = el('ul', { class: 'slot-list', 'aria-labelledby': 'slots-heading' });
      for (const s of list) {
        const t = s.start.slice(11, 16);
        const seats = typeof s.seats_remaining === 'number' && opts.seats > 1 ? s.seats_remaining : 0;
        ul.append(el('li', null, el('button', {
          type: 'button', class: 'slot', 'data-start': s.start,
          onclick: (e) => {
            for (const x of ul.querySelectorAll('.chosen')) { x.classList.remove('chosen'); x.removeAttribute('aria-current'); }
            e.currentTarget.classList.add('chosen');
            e.currentTarget.setAttribute('aria-current', 'true');
            opts.onPick(s, selected);
          },
        }, t, seats ? el('span', { class: 'seats', text: seats + (seats === 1 ? ' place' : ' places') + ' left' }) : null)));
      }
      slots.append(h, el('p', { class: 'muted tz-note', text: 'Times in ' + zoneName(tz) }),
        list.length ? ul : el('p', { class: 'muted', text: 'No free times on this day.' }));
      announce(list.length + ' time' + (list.length === 1 ? '' : 's') + ' on ' + fmtDay(selected));
      if (moveFocus) h.focus();
    }
    async function go(m) {
      hideError();
      selected = null;
      if (!(await load(m))) return;
      select(firstDate(), false);
    }
    /* A new zone moves the same instants to other wall-clock days, maybe into another month. The
     * selected day is carried over as an instant: its first free time (or, without one, the day
     * itself) read in the new zone gives the day from which the first free day is shown, in
     * whichever month holds it, moving on as the first render does. */
    async function changeZone(z) {
      const had = selected && byDate[selected] && byDate[selected].length ? wall(byDate[selected][0].start, z) : null;
      const from = had ? had.date : selected || month + '-01';
      tz = z;
      if (opts.onZone) opts.onZone(z);
      hideError();
      const firstFrom = () => Object.keys(byDate).filter((d) => d >= from && byDate[d] && byDate[d].length).sort()[0] || null;
      const m = from.slice(0, 7);
      if (!(await load(m))) return;
      for (let i = 0; i < 2 && !firstFrom(); i++) if (!(await load(addMonths(m, i + 1)))) return;
      if (!firstFrom() && month !== m && !(await load(m))) return;
      select(firstFrom(), false);
      announce('Times now shown in ' + zoneName(z) + '. ' + lastAnnounced);
    }
    return {
      root,
      get tz() { return tz; },
      async start() {
        const today = todayIn(tz);
        const want = opts.date && /^\d{4}-\d{2}-\d{2}$/.test(opts.date) ? opts.date : null;
        const wantMonth = opts.month && /^\d{4}-\d{2}$/.test(opts.month) ? opts.month : null;
        let m = want ? want.slice(0, 7) : wantMonth || today.slice(0, 7);
        if (!(await load(m))) return;
        if (want) return select(want, false);
        if (!wantMonth) {
          for (let i = 0; i < 2 && !firstDate(); i++) if (!(await load(addMonths(m, i + 1)))) return;
        }
        select(firstDate(), false);
      },
      /* Fresh slots for the same selection (after a 409 or a change of length/host). */
      async refresh(moveFocus) {
        const keep = selected;
        if (!(await load(month))) return;
        select(keep && byDate[keep] && byDate[keep].length ? keep : firstDate() || keep, !!moveFocus);
      },
      focusSelected(start) {
        const b = [...slots.querySelectorAll('button.slot')].find((x) => x.dataset.start === start);
        focusEl(b || $('#slots-heading'));
      },
    };
  }

  /* ---------- confirmation ---------- */
  function manageHref(b) {
    let h = '/booking/' + enc(b.uid) + '?token=' + enc(b.cancel_token || b.reschedule_token || '');
    if (b.cancel_token && b.reschedule_token) h += '&reschedule_token=' + enc(b.reschedule_token);
    return h;
  }
  function confirmation(b, eventName, pending) {
    const st = b.status === 'pending' || pending ? 'pending' : 'confirmed';
    const links = el('ul', { class: 'cal-links', 'aria-label': 'Add to calendar' });
    const sec = el('section', { id: 'confirmation', 'data-status': st, 'aria-labelledby': 'conf-title' },
      el('h2', { id: 'conf-title', tabindex: '-1', text: st === 'pending' ? 'Booking requested' : 'You are booked' }),
      el('p', { class: 'conf-what', text: eventName || b.event_name || '' }),
      el('p', { id: 'conf-when', text: whenText(b.start, b.end, b.timezone) }),
      st === 'pending'
        ? el('p', { class: 'pending-note', text: 'This booking awaits the host’s confirmation. You will get an e-mail when the host decides.' })
        : el('p', { text: 'A confirmation goes to ' + (b.invitee_email || 'your e-mail address') + '.' }),
      b.confirmation_number ? el('p', null, 'Confirmation number: ', el('strong', { class: 'conf-number', text: b.confirmation_number })) : null,
      links);
    if (b.cancel_token || b.reschedule_token) {
      sec.append(el('p', null, linkOut(el('a', { id: 'manage-link', href: manageHref(b), text: 'Reschedule or cancel' }))));
      const tok = b.cancel_token || b.reschedule_token;
      api('GET', '/api/bookings/' + enc(b.uid) + '/calendar-links?token=' + enc(tok)).then((r) => {
        if (!r.ok || !r.data) return;
        const add = (id, key, text) => {
          const u = r.data[key];
          if (typeof u === 'string' && /^https?:\/\//.test(u)) links.append(el('li', null, el('a', { id, href: u, target: '_blank', rel: 'noopener', text })));
        };
        add('cal-google', 'google', 'Google Calendar');
        add('cal-outlook', 'outlook', 'Outlook');
        add('cal-office365', 'office365', 'Office 365');
        add('cal-yahoo', 'yahoo', 'Yahoo');
        add('cal-ics', 'ics', 'Download .ics');
      });
    }
    return sec;
  }

  /* ---------- the event page ---------- */
  async function viewEvent() {
    const slug = ds.slug || '', eslug = ds.eventSlug || '';
    const r = await api('GET', '/api/public/' + enc(slug) + '/' + enc(eslug));
    if (!r.ok) return r.status === 404 ? viewNotFound() : showError(r.error);
    const page = r.data.page || {}, et = r.data.event_type || {};
    renderHeader(Object.assign({ slug }, page), true);
    document.title = (et.name || '') + ' · ' + (page.display_name || slug);
    const qtz = q.get('timezone');
    const st = { duration: et.duration_minutes, host: '', slot: null, date: null };
    const durations = Array.isArray(et.durations) ? et.durations : [];
    const price = priceText(et.price, et.currency);
    const durText = el('span', { id: 'event-duration', text: minutes(et.duration_minutes) });
    const info = el('div', { class: 'event-info' },
      el('h1', { id: 'event-name', text: et.name || '' }),
      el('p', { class: 'meta' }, durText, price ? el('span', { class: 'price', text: ' · ' + price }) : null,
        et.requires_confirmation ? el('span', { text: ' · needs the host’s confirmation' }) : null),
      et.description ? el('p', { class: 'desc', text: et.description }) : null,
      recurText(et.recurrence) ? el('p', { class: 'recur', text: recurText(et.recurrence) }) : null);
    const controls = [];
    if (durations.length > 1) {
      const sel = el('select', { id: 'duration' });
      for (const d of durations) sel.append(el('option', { value: d, text: minutes(d) }));
      sel.value = String(et.duration_minutes);
      sel.addEventListener('change', () => { st.duration = +sel.value; durText.textContent = minutes(st.duration); pk.refresh(false); });
      controls.push(el('div', { class: 'field' }, el('label', { for: 'duration', text: 'Length' }), sel));
    }
    if (et.scheduling === 'round_robin' && Array.isArray(et.hosts) && et.hosts.length > 1) {
      const sel = el('select', { id: 'host' }, el('option', { value: '', text: 'Anyone available' }));
      for (const h of et.hosts) sel.append(el('option', { value: h.id, text: h.name }));
      sel.addEventListener('change', () => { st.host = sel.value; pk.refresh(false); });
      controls.push(el('div', { class: 'field' }, el('label', { for: 'host', text: 'Host' }), sel));
    }
    const pk = picker({
      tz: zoneOk(qtz) ? qtz : browserTz, date: q.get('date'), month: q.get('month'), controls, seats: et.seats,
      load(start, end, tz) {
        let p = '/api/availability/' + enc(slug) + '/' + enc(eslug) + '?start=' + start + '&end=' + end + '&timezone=' + enc(tz) + '&format=range';
        if (durations.length > 1) p += '&duration=' + st.duration;
        if (st.host) p += '&host_id=' + enc(st.host);
        return api('GET', p);
      },
      onPick(s, date) { st.slot = s; st.date = date; showForm(); },
    });
    const pickWrap = el('div', { class: 'pick-wrap' }, pk.root);
    const formWrap = el('div', { class: 'form-wrap', hidden: true });
    clear(main).append(el('div', { class: 'event' }, info, el('div', { class: 'event-main' }, pickWrap, formWrap)));
    if (q.get('timezone') && !zoneOk(qtz)) showError('The time zone in the link is unknown; showing ' + zoneName(browserTz) + '.');
    pk.start();

    const form = bookingForm(et);
    const summary = el('p', { id: 'book-when', class: 'book-when' });
    const back = el('button', { id: 'back', type: 'button', class: 'btn btn-ghost', text: 'Back to times' });
    formWrap.append(el('h2', { class: 'section-title', text: 'Your details' }), summary, form.node, back);
    back.addEventListener('click', () => {
      hideError();
      formWrap.hidden = true; pickWrap.hidden = false;
      pk.focusSelected(st.slot && st.slot.start);
    });
    function showForm() {
      hideError();
      summary.textContent = whenText(st.slot.start, st.slot.end, pk.tz);
      if (form.seats) form.seats.max = Math.max(1, st.slot.seats_remaining || et.seats || 1);
      pickWrap.hidden = true; formWrap.hidden = false;
      focusEl($('#name'));
    }
    form.onSubmit(async (fields, done) => {
      const body = Object.assign({ timezone: pk.tz, start_time: st.slot.start }, fields);
      if (durations.length > 1) body.duration_minutes = st.duration;
      if (st.host) body.host_id = +st.host;
      const r = await api('POST', '/api/book/' + enc(slug) + '/' + enc(eslug), body);
      done();
      if (r.status === 201 && r.data && r.data.booking) {
        const b = r.data.booking;
        postBooked(b, et.requires_confirmation);
        const conf = confirmation(b, et.name, et.requires_confirmation);
        const more = Array.isArray(r.data.bookings) ? r.data.bookings.slice(1) : [];
        if (more.length) {
          const ul = el('ul', { class: 'series', 'aria-label': 'The other dates of the series' });
          for (const x of more) ul.append(el('li', { text: whenText(x.start, x.end, x.timezone) }));
          conf.querySelector('#conf-when').after(el('p', { text: 'Also booked, at the same time:' }), ul);
        }
        setMain(conf);
        focusEl($('#conf-title'));
        return;
      }
      if (r.status === 409) {
        formWrap.hidden = true; pickWrap.hidden = false;
        await pk.refresh(false);
        showError(et.recurrence && r.data && /occurrence/.test(r.data.error || '')
          ? 'That time is taken on another date of the series (' + r.error.replace(/\.$/, '') + '). Please pick another time.'
          : 'That time was just taken. Please pick another time.', $('#slots'));
        focusEl($('#slots-heading'));
        return;
      }
      if (r.status === 400 && r.data && form.fieldError(r.data.field, r.error)) return;
      showError(r.error, $('#book-submit'));
    });
  }

  /* The booking form; questions become #q-<id>. onSubmit gets the fields once they pass the
   * client-side checks (required answers, e-mail shape). */
  function bookingForm(et) {
    const node = el('form', { id: 'book', noValidate: true });
    const controls = {};
    function field(id, text, control, required, hint) {
      control.id = id;
      if (required) { control.required = true; control.setAttribute('aria-required', 'true'); }
      controls[id] = control;
      const lab = el('label', { for: id }, text, required ? el('span', { class: 'req', 'aria-hidden': 'true', text: ' *' }) : null);
      if (control.type === 'checkbox') return el('div', { class: 'field check' }, control, lab);
      return el('div', { class: 'field' }, lab, hint || null, control);
    }
    node.append(el('p', { class: 'muted small', text: 'Fields marked * are required.' }));
    node.append(field('name', 'Your name', el('input', { type: 'text', autocomplete: 'name', maxlength: '200' }), true));
    node.append(field('email', 'E-mail', el('input', { type: 'email', autocomplete: 'email', maxlength: '254' }), true));
    const qs = Array.isArray(et.questions) ? et.questions : [];
    for (const qu of qs) {
      let c;
      const t = qu.type;
      if (t === 'textarea') c = el('textarea', { rows: '3' });
      else if (t === 'select') {
        c = el('select', null, el('option', { value: '', text: 'Choose…' }));
        for (const o of qu.options || []) c.append(el('option', { value: o, text: o }));
      } else if (t === 'checkbox') c = el('input', { type: 'checkbox' });
      else c = el('input', { type: t === 'email' ? 'email' : t === 'phone' ? 'tel' : 'text' });
      node.append(field('q-' + qu.id, qu.label || qu.id, c, !!qu.required));
    }
    let seats = null;
    if (et.seats > 1) {
      seats = el('input', { type: 'number', min: '1', max: String(et.seats), step: '1', inputmode: 'numeric' });
      seats.value = '1';
      node.append(field('seats', 'Number of places', seats, true));
    }
    node.append(field('notes', 'Anything the host should know', el('textarea', { rows: '3', maxlength: '2000' }), false));
    const submit = el('button', { id: 'book-submit', type: 'submit', class: 'btn', text: et.requires_confirmation ? 'Request booking' : 'Book' });
    node.append(submit);

    function setErr(c, text) {
      c.setAttribute('aria-invalid', 'true');
      const id = c.id + '-error';
      let p = document.getElementById(id);
      if (!p) {
        p = el('p', { id, class: 'field-error' });
        const wrap = c.closest('.field');
        wrap.append(p);
      }
      p.textContent = text;
      c.setAttribute('aria-describedby', id);
    }
    function clearErr(c) {
      c.removeAttribute('aria-invalid');
      c.removeAttribute('aria-describedby');
      const p = document.getElementById(c.id + '-error');
      if (p) p.remove();
    }
    node.addEventListener('input', (e) => { if (e.target.getAttribute('aria-invalid')) clearErr(e.target); });
    node.addEventListener('change', (e) => { if (e.target.getAttribute('aria-invalid')) clearErr(e.target); });
    function check() {
      let first = null;
      for (const id in controls) {
        const c = controls[id];
        clearErr(c);
        let msg = '';
        const v = c.type === 'checkbox' ? c.checked : c.value.trim();
        const label = (c.labels && c.labels[0] ? c.labels[0].firstChild.textContent : id).trim();
        if (c.required && !v) msg = c.type === 'checkbox' ? 'Please tick this box.' : c.tagName === 'SELECT' ? 'Please choose an answer.' : 'Please fill in “' + label + '”.';
        else if (c.type === 'email' && v && c.validity.typeMismatch) msg = 'Please enter a valid e-mail address.';
        else if (c === seats && !(Number.isInteger(+v) && +v >= 1 && +v <= +seats.max)) msg = 'Please enter a number from 1 to ' + seats.max + '.';
        if (msg) { setErr(c, msg); first = first || c; }
      }
      if (first) first.focus();
      return !first;
    }
    let handler = null;
    node.addEventListener('submit', (e) => {
      e.preventDefault();
      hideError();
      if (!check() || !handler) return;
      const fields = { name: controls.name.value.trim(), email: controls.email.value.trim(), answers: {} };
      for (const qu of qs) {
        const c = controls['q-' + qu.id];
        if (c.type === 'checkbox') fields.answers[qu.id] = c.checked;
        else if (c.value.trim()) fields.answers[qu.id] = c.value.trim();
      }
      if (seats) fields.seats = +seats.value;
      if (controls.notes.value.trim()) fields.notes = controls.notes.value.trim();
      submit.disabled = true;
      submit.setAttribute('aria-busy', 'true');
      handler(fields, () => { submit.disabled = false; submit.removeAttribute('aria-busy'); });
    });
    return {
      node, seats,
      onSubmit(f) { handler = f; },
      /* The server's 400 naming a field: shown at that control, in the server's words. */
      fieldError(name, text) {
        if (typeof name !== 'string') return false;
        const id = name.startsWith('answers.') ? 'q-' + name.slice(8) : name;
        const c = controls[id];
        if (!c) return false;
        setErr(c, text);
        c.focus();
        return true;
      },
    };
  }

  /* ---------- the manage page ---------- */
  async function viewManage() {
    const uid = ds.uid || '';
    const token = q.get('token') || '', rtok = q.get('reschedule_token') || '';
    let cancelTok = null, reschedTok = null, b = null;
    header.hidden = true;
    clear(main).append(el('h1', { class: 'manage-title', tabindex: '-1', text: 'Your booking' }));
    document.title = 'Your booking';
    const get = (kind, t) => api('GET', '/api/' + kind + '/' + enc(t));
    if (token) {
      let r = await get('cancel', token);
      if (r.ok) { cancelTok = token; b = r.data; } else if (r.status === 404) {
        r = await get('reschedule', token);
        if (r.ok) { reschedTok = token; b = r.data; }
      }
      if (!b && r.status !== 404) return showError(r.error);
    }
    if (rtok && rtok !== token) {
      const r = await get('reschedule', rtok);
      if (r.ok) { reschedTok = rtok; b = b || r.data; }
    }
    if (!b || (b.uid && uid && b.uid !== uid)) {
      return showError(token ? 'This link is invalid or no longer valid: the booking may have been cancelled, moved to a new link, or already taken place.' : 'This link is missing its token. Please use the link from your e-mail.');
    }
    const whenEl = el('p', { id: 'booking-when', text: whenText(b.start, b.end, b.timezone) });
    const statusEl = el('p', { class: 'status-words', text: statusWords(b.status) });
    const actions = el('div', { class: 'actions' });
    const panel = el('div', { class: 'manage-panel' });
    const sec = el('section', { id: 'manage', 'data-status': b.status, 'aria-labelledby': 'manage-event' },
      el('h2', { id: 'manage-event', text: b.event_name || b.event_type_name || 'Booking' }),
      whenEl, statusEl,
      b.confirmation_number ? el('p', null, 'Confirmation number: ', el('strong', { text: b.confirmation_number })) : null,
      actions, panel);
    main.append(sec);
    const active = b.status === 'confirmed' || b.status === 'pending';
    if (!active) return;
    if (cancelTok) actions.append(el('button', { id: 'cancel-open', type: 'button', class: 'btn btn-ghost', text: 'Cancel booking', onclick: openCancel }));
    if (reschedTok) actions.append(el('button', { id: 'reschedule-open', type: 'button', class: 'btn', text: 'Reschedule', onclick: openReschedule }));
    if (!cancelTok && !reschedTok) return;

    function openCancel() {
      hideError();
      const reason = el('textarea', { id: 'cancel-reason', rows: '3', maxlength: '1000' });
      const confirm = el('button', { id: 'cancel-confirm', type: 'button', class: 'btn btn-danger', text: 'Cancel the booking' });
      const keep = el('button', { type: 'button', class: 'btn btn-ghost', text: 'Keep it' });
      clear(panel).append(el('h3', { text: 'Cancel this booking?' }),
        el('div', { class: 'field' }, el('label', { for: 'cancel-reason', text: 'Reason (optional, shared with the host)' }), reason),
        el('div', { class: 'row' }, confirm, keep));
      keep.addEventListener('click', () => { clear(panel); hideError(); focusEl($('#cancel-open')); });
      confirm.addEventListener('click', async () => {
        confirm.disabled = true;
        const body = reason.value.trim() ? { reason: reason.value.trim() } : {};
        const r = await api('POST', '/api/cancel/' + enc(cancelTok) + '/confirm', body);
        confirm.disabled = false;
        if (!r.ok) return showError(r.status === 404 ? 'This booking can no longer be cancelled with this link.' : r.error, panel);
        hideError();
        sec.dataset.state = 'cancelled';
        sec.dataset.status = 'cancelled';
        statusEl.textContent = 'Cancelled. The host has been told.';
        clear(actions); clear(panel);
        panel.append(el('p', { class: 'done', tabindex: '-1', text: 'Your booking is cancelled.' }));
        focusEl(panel.firstChild);
        announce('Your booking is cancelled.');
        post({ type: 'slotd:cancelled', booking: { uid: b.uid, status: 'cancelled' } });
      });
      reason.focus();
    }

    function openReschedule() {
      hideError();
      let choice = null;
      const confirmBox = el('div', { class: 'resched-confirm', hidden: true });
      const pk = picker({
        tz: zoneOk(b.timezone) ? b.timezone : browserTz, date: null, month: null, seats: 1,
        load(start, end, tz) {
          let p = '/api/event-types/' + enc(b.event_type_id) + '/slots?start=' + start + '&end=' + end + '&timezone=' + enc(tz) + '&format=range';
          if (b.duration_minutes) p += '&duration=' + enc(b.duration_minutes);
          if (b.host && b.host.id) p += '&host_id=' + enc(b.host.id);
          return api('GET', p);
        },
        onPick(s) {
          choice = s;
          hideError();
          const btn = el('button', { id: 'reschedule-confirm', type: 'button', class: 'btn', text: 'Move my booking here' });
          btn.addEventListener('click', () => move(btn));
          clear(confirmBox).append(el('p', { text: 'New time: ' + whenText(s.start, s.end, pk.tz) }), btn);
          confirmBox.hidden = false;
          btn.focus();
        },
      });
      clear(panel).append(el('h3', { text: 'Pick a new time' }), pk.root, confirmBox);
      pk.start();
      focusEl($('#tz'));
      async function move(btn) {
        btn.disabled = true;
        const r = await api('POST', '/api/reschedule/' + enc(reschedTok), { start_time: choice.start, timezone: pk.tz });
        btn.disabled = false;
        if (r.ok && r.data && r.data.booking) {
          const nb = r.data.booking;
          hideError();
          sec.dataset.state = 'rescheduled';
          sec.dataset.status = nb.status;
          whenEl.textContent = whenText(nb.start, nb.end, nb.timezone);
          statusEl.textContent = 'Moved. ' + statusWords(nb.status);
          clear(panel).append(el('p', { class: 'done', tabindex: '-1', text: 'Your booking now is on ' + whenText(nb.start, nb.end, nb.timezone) + '.' }));
          focusEl(panel.firstChild);
          post({ type: 'slotd:rescheduled', booking: publicBooking(nb, nb.status === 'pending') });
          return;
        }
        if (r.status === 409) {
          confirmBox.hidden = true;
          await pk.refresh(false);
          showError('That time was just taken. Please pick another time.', $('#slots'));
          focusEl($('#slots-heading'));
          return;
        }
        showError(r.error, confirmBox);
      }
    }
  }
  function statusWords(s) {
    return ({
      confirmed: 'Confirmed.', pending: 'Awaiting the host’s confirmation.', cancelled: 'Cancelled.',
      declined: 'Declined by the host.', rescheduled: 'Moved to a new time.', awaiting_payment: 'Awaiting payment.',
    })[s] || (s ? 'Status: ' + s + '.' : '');
  }

  function viewNotFound() {
    clear(header).hidden = true;
    document.title = 'Not found';
    clear(main).append(el('h1', { text: 'Page not found' }),
      el('p', { text: 'There is no booking page at this address. Check the link you were given.' }));
  }

  const views = { page: viewPage, event: viewEvent, manage: viewManage, notfound: viewNotFound };
  (views[ds.view] || viewNotFound)();
})();
