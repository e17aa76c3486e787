// The admin page's shell: sign-in, the header, and which view the address (#/...) shows.

import { currentSession, get, onBusy, onSignedOut, signIn, signOut } from './api.js';
import { field, form, h, newPage, showNotice } from './ui.js';
import { companiesView, companyView } from './companies.js';
import { threadView } from './threads.js';
import { draftView } from './drafts.js';
import { usersView } from './users.js';

const view = document.getElementById('view');
let me = null;

const routes = [
  [/^#\/companies\/(\d+)$/, (id) => companyView(view, Number(id))],
  [/^#\/threads\/([^/?]+)(?:\?company=(\d+))?$/,
    (id, company) => threadView(view, decodeURIComponent(id), company ? Number(company) : null)],
  [/^#\/drafts\/(\d+)(?:\?company=(\d+))?$/,
    (id, company) => draftView(view, Number(id), company ? Number(company) : null)],
  [/^#\/users$/, () => usersView(view, me)],
  [/^(#\/companies)?$/, () => companiesView(view)],
];

function signInView(reason) {
  document.title = 'Sign in · adthread';
  const signInForm = form({ class: 'card narrow', 'aria-label': 'Sign in' }, [
    h('h1', {}, 'Sign in'),
    reason ? h('p', { class: 'muted' }, reason) : null,
    field('Email', 'username', { type: 'email', required: true, autocomplete: 'username' }),
    field('Password', 'password', { type: 'password', required: true, autocomplete: 'current-password' }),
  ], async ({ username, password }) => {
    await signIn(username.trim(), password);
    await start();
  }, 'Sign in');
  view.replaceChildren(signInForm);
  signInForm.querySelector('input').focus();
}

function showShell(signedIn) {
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('whoami').hidden = !signedIn;
  document.getElementById('nav-users').hidden = !(signedIn && me?.is_admin);
  document.getElementById('whoami-email').textContent = signedIn ? me.email : '';
}

async function render() {
  newPage();
  if (!currentSession() || !me) return;
  const section = location.hash.startsWith('#/users') ? '#/users' : '#/companies';
  for (const link of document.querySelectorAll('#nav a')) {
    link.classList.toggle('current', link.getAttribute('href') === section);
  }
  for (const [pattern, show] of routes) {
    const match = location.hash.match(pattern);
    if (match) return show(...match.slice(1));
  }
  view.replaceChildren(h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/companies' }, 'Back to the companies')));
}

/** Shows the page for the stored session, or the sign-in form when there is none. */
async function start() {
  if (!currentSession()) {
    me = null;
    showShell(false);
    return signInView();
  }
  try {
    me = await get('/api/v1/users/me');
  } catch (err) {
    if (!currentSession()) return; // 401: onSignedOut shows the sign-in form.
    view.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, err.message));
    return;
  }
  showShell(true);
  await render();
}

onBusy((isBusy) => {
  document.getElementById('progress').hidden = !isBusy;
  document.body.classList.toggle('busy', isBusy);
});

onSignedOut(() => {
  me = null;
  showShell(false);
  signInView('Your session has ended (expired, signed out elsewhere, or the account was changed). Sign in again.');
});

document.getElementById('sign-out').addEventListener('click', async () => {
  try {
    await signOut();
  } catch (err) {
    showNotice(`Signed out here, but the server said: ${err.message}`);
  }
  me = null;
  showShell(false);
  signInView('You are signed out.');
});

window.addEventListener('hashchange', render);
start();
