// Teller dashboard: the realtime counter, copy buttons and closing menus. Everything works without it.
(function () {
  'use strict';

  function refreshRealtime() {
    var counter = document.getElementById('realtime');
    if (!counter) return;
    fetch(counter.getAttribute('data-url'), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        counter.textContent = data.visitors.toLocaleString('en');
        counter.setAttribute('data-value', data.visitors);
        var plural = document.getElementById('realtime-plural');
        if (plural) plural.textContent = data.visitors === 1 ? '' : 's';
      })
      .catch(function () {});
  }

  function copy(button) {
    var source = document.getElementById(button.getAttribute('data-copy'));
    var status = button.parentNode.querySelector('.copied');
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent).then(function () {
      if (status) status.textContent = 'Copied.';
    });
  }

  document.addEventListener('click', function (event) {
    var button = event.target.closest('button.copy');
    if (button) copy(button);
    document.querySelectorAll('details.menu[open]').forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute('open');
    });
  });

  document.addEventListener('keydown', function (event) {
    if (event.key !== 'Escape') return;
    document.querySelectorAll('details.menu[open]').forEach(function (menu) {
      menu.removeAttribute('open');
      menu.querySelector('summary').focus();
    });
  });

  if (document.getElementById('realtime')) setInterval(refreshRealtime, 30000);
})();
