/* Teller snippet, see docs/snippet.md */
(function (w, d) {
  var s = d.currentScript, loc = w.location, nav = w.navigator, his = w.history;
  var attr = function (k) { return s.getAttribute('data-' + k); };
  var api = attr('api') || new URL('/api/event', s.src).href;
  var domain = attr('domain') || loc.hostname.replace(/^www\./, '');
  var hash = attr('hash') != null;
  var off = (attr('local') == null && /^localhost$|^127(\.\d+){3}$|^\[::1?\]$|^$/.test(loc.hostname)) ||
    (nav.webdriver && !w.__teller) ||
    (attr('dnt') != 'ignore' && (nav.doNotTrack == '1' || nav.globalPrivacyControl));
  var queue = (w.teller && w.teller.q) || [];
  var path = null, url, engaged = 0, since = 0, depth = 0, sent = -1;

  function send(body, callback) {
    callback = callback || function () {};
    if (off) return callback();
    body.d = domain;
    if (hash) body.h = 1;
    // text/plain: no CORS preflight
    fetch(api, { method: 'POST', body: JSON.stringify(body), keepalive: true, credentials: 'omit' })
      .then(function (r) { callback({ status: r.status }); }, function (e) { callback({ error: e }); });
  }

  function track(name, o) {
    o = o || {};
    if (name == 'search' && o.term != null) o = { props: { term: o.term, results: o.results } };
    send({ n: name, u: o.u || loc.href, r: d.referrer || null, p: o.props, i: o.interactive }, o.callback);
  }

  function now() { return Date.now(); }
  function total() { return engaged + (since && now() - since); }
  function scrolled() {
    var e = d.documentElement, height = Math.max(e.scrollHeight, d.body ? d.body.scrollHeight : 0);
    return Math.min(100, Math.round((w.scrollY + w.innerHeight) / height * 100)) || 0;
  }

  function flush() {
    var e = total();
    if (path == null || !(e > 0 || depth > sent)) return;
    sent = depth;
    engaged = 0;
    since = since && now();
    send({ n: 'engagement', u: url, e: e, sd: depth });
  }
  function pause() { engaged = total(); since = 0; flush(); }
  function onState() {
    if (d.visibilityState == 'visible' && d.hasFocus()) since = since || now();
    else pause();
  }

  function pageview(spa) {
    var p = loc.pathname + (hash ? loc.hash : '');
    if (spa === 1 && p == path) return;
    flush();
    path = p;
    url = loc.href;
    engaged = 0;
    since = 0;
    onState();
    depth = scrolled();
    sent = -1;
    track('pageview');
  }
  function spa() { pageview(1); }

  function tagged(el) {
    var m, tag = { props: {} }, list = ((el.getAttribute && el.getAttribute('class')) || '').split(' ');
    for (var i = 0; i < list.length; i++) {
      if ((m = list[i].match(/^(?:teller|plausible)-event-(.+?)=(.+)$/))) {
        if (m[1] == 'name') tag.name = m[2].replace(/\+/g, ' ');
        else tag.props[m[1]] = m[2].replace(/\+/g, ' ');
      }
    }
    return tag.name && tag;
  }

  function onClick(ev) {
    if (ev.type == 'auxclick' && ev.button != 1) return;
    for (var el = ev.target, i = 0, link, tag; el && i < 4; i++, el = el.parentNode) {
      if (!link && el.tagName == 'A' && typeof el.href == 'string') link = el;
      tag = tag || tagged(el);
    }
    if (tag) {
      if (link) tag.props.url = link.href;
      return track(tag.name, tag);
    }
    if (!link || !/^http/.test(link.protocol)) return;
    var bare = link.href.split(/[?#]/)[0];
    if (link.host != loc.host) track('Outbound Link: Click', { props: { url: link.href } });
    else if (/\.(pdf|xlsx?|docx?|txt|rtf|csv|exe|key|pps|pptx?|7z|pkg|rar|gz|zip|avi|mov|mp4|mpe?g|wmv|midi?|mp3|wav|wma|dmg)$/i.test(bare)) {
      track('File Download', { props: { url: bare } });
    }
  }

  d.addEventListener('click', onClick);
  d.addEventListener('auxclick', onClick);
  d.addEventListener('submit', function (ev) {
    var tag = tagged(ev.target);
    if (tag) track(tag.name, tag);
  });
  d.addEventListener('visibilitychange', onState);
  w.addEventListener('focus', onState);
  w.addEventListener('blur', onState);
  w.addEventListener('pagehide', pause);
  w.addEventListener('scroll', function () { depth = Math.max(depth, scrolled()); }, { passive: true });
  w.addEventListener('pageshow', function (ev) { if (ev.persisted) pageview(); });
  w.addEventListener(hash ? 'hashchange' : 'popstate', spa);
  ['pushState', 'replaceState'].forEach(function (k) {
    var original = his[k];
    his[k] = function () { original.apply(this, arguments); spa(); };
  });

  w.teller = track;
  queue.forEach(function (args) { track.apply(null, args); });
  // background and prerendered pages count once shown
  if (d.visibilityState == 'visible') pageview();
  else d.addEventListener('visibilitychange', function () { if (path == null && d.visibilityState == 'visible') pageview(); });
})(window, document);
