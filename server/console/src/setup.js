// First-run setup: creates the first admin from the one-time link's token,
// then opens the console signed in.
(function () {
  'use strict';
  const form = document.getElementById('setup');
  const error = document.getElementById('setup-error');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    const data = new FormData(form);
    const body = {
      token: form.dataset.token || '',
      name: data.get('name'),
      email: data.get('email'),
      password: data.get('password'),
    };
    form.setAttribute('aria-busy', 'true');
    try {
      const res = await fetch('/api/v1/setup', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.ok) {
        location.assign('/');
        return;
      }
      const problem = await res.json().catch(() => ({}));
      error.textContent = problem.message || form.dataset.failed.replace('{status}', String(res.status));
    } catch (err) {
      error.textContent = form.dataset.offline;
    } finally {
      form.removeAttribute('aria-busy');
    }
  });
})();
