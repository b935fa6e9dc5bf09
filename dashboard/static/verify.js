// The installation check: asks Teller every two seconds whether the site's first event arrived.
(function () {
  'use strict';

  var box = document.getElementById('verify');
  var zone = document.querySelector('select[data-browser-zone]');
  if (zone && window.Intl && !zone.dataset.touched) {
    // Preselect the browser's own time zone when Teller knows it.
    var own = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (own && zone.querySelector('option[value="' + own + '"]')) zone.value = own;
  }
  if (!box) return;
  var message = document.getElementById('verify-message');
  var detail = document.getElementById('verify-detail');
  var site = box.getAttribute('data-site');
  // The messages come translated from the page (verify.html); each {name} is filled in here.
  var texts = JSON.parse(document.getElementById('verify-texts').textContent);

  function say(name, values) {
    return texts[name].replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  function show(kind, text, more) {
    box.className = 'verify verify-' + kind;
    message.textContent = text;
    detail.textContent = more || '';
  }

  function time(seconds) {
    return new Date(seconds * 1000).toLocaleTimeString(document.documentElement.lang || undefined);
  }

  function check() {
    fetch(box.getAttribute('data-url'), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return setTimeout(check, 5000);
        if (data.state === 'received') {
          show('received', say('received', { event: data.event, path: data.path, time: time(data.at), site: site }),
            say('received_detail', {}));
          document.getElementById('verify-dashboard').hidden = false;
          return;
        }
        if (data.state === 'dropped') {
          show('dropped', say('dropped', { site: site, time: time(data.at), meaning: data.meaning }), data.advice);
        } else if (data.unknown_sites && data.unknown_sites.length) {
          show('dropped', say('unknown', { sites: data.unknown_sites.join(', ') }), say('unknown_detail', { site: site }));
        }
        setTimeout(check, 2000);
      })
      .catch(function () { setTimeout(check, 5000); });
  }

  check();
})();
