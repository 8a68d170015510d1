/* slotd embed: <script src="https://slotd.example/embed.js" data-slotd="jane-smith/30-minute-call"
 * data-mode="inline|popup" data-theme="#7c3aed" data-hide-header="true" data-button-text="…">.
 * Inline: an iframe after the script tag, as tall as its content (slotd:resize). Popup: a button
 * opening the page in a modal dialog. slotd's origin is the script's own src origin, and only
 * messages from that origin and that iframe are believed. Styles go through CSSOM (no <style>,
 * no markup strings), so a parent page's CSP without 'unsafe-inline' is no obstacle. */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || !script.src) return;
  var origin;
  try { origin = new URL(script.src).origin; } catch (e) { return; }
  var path = (script.getAttribute('data-slotd') || '').replace(/^\/+|\/+$/g, '');
  if (!/^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)?$/.test(path)) {
    if (window.console) console.error('slotd embed: data-slotd must be "page" or "page/event", got', path);
    return;
  }
  var mode = script.getAttribute('data-mode') === 'popup' ? 'popup' : 'inline';
  var m = /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.exec((script.getAttribute('data-theme') || '').trim());
  var theme = m ? m[1] : null;
  var hh = (script.getAttribute('data-hide-header') || '').toLowerCase();
  var hideHeader = hh === 'true' || hh === '1' || hh === 'yes';
  var src = origin + '/' + path + '?embed=1&embed_origin=' + encodeURIComponent(location.origin) +
    (theme ? '&theme=' + theme : '') + (hideHeader ? '&hide_header=1' : '');
  var title = 'Booking page: ' + path;
  var frame = null;

  function css(el, styles) { for (var k in styles) el.style[k] = styles[k]; return el; }

  function makeFrame(height) {
    var f = document.createElement('iframe');
    f.className = 'slotd-embed';
    f.src = src;
    f.title = title;
    f.setAttribute('scrolling', 'no');
    f.setAttribute('frameborder', '0');
    css(f, { display: 'block', width: '100%', border: '0', height: height + 'px', overflow: 'hidden', colorScheme: 'normal' });
    return f;
  }

  window.addEventListener('message', function (e) {
    if (!frame || e.origin !== origin || e.source !== frame.contentWindow) return;
    var d = e.data;
    if (!d || typeof d !== 'object' || typeof d.type !== 'string') return;
    if (d.type === 'slotd:resize') {
      var h = Number(d.height);
      if (isFinite(h) && h > 0) frame.style.height = Math.min(Math.ceil(h), 100000) + 'px';
      return;
    }
    /* The page hears the same messages itself; a DOM event on the iframe helps pages with several. */
    if (/^(slotd|schedkit):/.test(d.type) && typeof CustomEvent === 'function') {
      frame.dispatchEvent(new CustomEvent(d.type, { detail: d, bubbles: true }));
    }
  });

  function after(node) { script.parentNode.insertBefore(node, script.nextSibling); }

  if (mode === 'inline') {
    frame = makeFrame(600);
    after(frame);
    return;
  }

  var color = theme ? '#' + theme : '#0069ff';
  var button = document.createElement('button');
  button.type = 'button';
  button.className = 'slotd-embed-button';
  button.textContent = script.getAttribute('data-button-text') || 'Book a time';
  button.setAttribute('aria-haspopup', 'dialog');
  css(button, {
    background: color, color: '#fff', border: '0', borderRadius: '8px', padding: '10px 20px',
    font: 'inherit', fontWeight: '600', cursor: 'pointer', minHeight: '44px',
  });
  after(button);

  var overlay = null, lastOverflow = '';
  function onKey(e) {
    if (e.key === 'Escape' || e.key === 'Esc') { e.preventDefault(); close(); }
  }
  function onFocusIn(e) {
    if (overlay && !overlay.contains(e.target)) overlay.querySelector('.slotd-embed-close').focus();
  }
  function close() {
    if (!overlay) return;
    document.removeEventListener('keydown', onKey, true);
    document.removeEventListener('focusin', onFocusIn, true);
    overlay.parentNode.removeChild(overlay);
    overlay = null;
    frame = null;
    document.documentElement.style.overflow = lastOverflow;
    button.focus();
  }
  button.addEventListener('click', function () {
    if (overlay) return;
    overlay = document.createElement('div');
    overlay.className = 'slotd-embed-overlay';
    overlay.setAttribute('role', 'dialog');
    overlay.setAttribute('aria-modal', 'true');
    overlay.setAttribute('aria-label', button.textContent);
    css(overlay, {
      position: 'fixed', top: '0', left: '0', right: '0', bottom: '0', zIndex: '2147483000',
      background: 'rgba(0,0,0,0.55)', overflowY: 'auto', padding: '16px 8px',
    });
    var panel = css(document.createElement('div'), {
      position: 'relative', maxWidth: '980px', margin: '0 auto', background: '#fff',
      borderRadius: '10px', padding: '44px 0 0', boxShadow: '0 10px 40px rgba(0,0,0,0.35)',
    });
    var x = document.createElement('button');
    x.type = 'button';
    x.className = 'slotd-embed-close';
    x.setAttribute('aria-label', 'Close');
    x.textContent = '\u00d7';
    css(x, {
      position: 'absolute', top: '4px', right: '4px', width: '40px', height: '40px', border: '0',
      background: 'transparent', fontSize: '28px', lineHeight: '1', cursor: 'pointer', color: '#333',
    });
    x.addEventListener('click', close);
    overlay.addEventListener('click', function (e) { if (e.target === overlay) close(); });
    frame = makeFrame(Math.max(300, Math.round(window.innerHeight * 0.75)));
    panel.appendChild(x);
    panel.appendChild(frame);
    overlay.appendChild(panel);
    document.body.appendChild(overlay);
    lastOverflow = document.documentElement.style.overflow;
    document.documentElement.style.overflow = 'hidden';
    document.addEventListener('keydown', onKey, true);
    document.addEventListener('focusin', onFocusIn, true);
    x.focus();
  });
})();
