// Runs an agency's day on the admin page in Debian's chromium, against a running adthread.
//
//   node admin_page.mjs BASE_URL ADMIN_EMAIL ADMIN_PASSWORD USER_EMAIL SCREENSHOT_DIR
//   node admin_page.mjs BASE_URL ADMIN_EMAIL ADMIN_PASSWORD - SCREENSHOT_DIR DRAFT_HASH
//
// USER_EMAIL is an existing, active, non-admin account: it is added to and removed from the
// company, and at the end deactivated (the caller then checks that its token answers 401).
// With DRAFT_HASH (such as `#/drafts/1?company=1`, a draft with one ad group, on a server with
// the stand-in model) it runs the wizard's generation instead.
// Prints what it does; exits non-zero on the first thing that is not as a user would expect.

import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [base, adminEmail, adminPassword, userEmail, shots, draftHash, draftThread] = process.argv.slice(2);
if (!shots) {
  console.error('usage: node admin_page.mjs BASE_URL ADMIN_EMAIL ADMIN_PASSWORD USER_EMAIL SCREENSHOT_DIR');
  process.exit(2);
}
// Start from an empty folder: a screenshot left by an earlier run (a stale failure.png) would be
// taken for this run's.
rmSync(shots, { recursive: true, force: true });
mkdirSync(shots, { recursive: true });

const profile = mkdtempSync(join(tmpdir(), 'adthread-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 860 },
});
context.setDefaultTimeout(15000);
const page = context.pages()[0] || await context.newPage();

// Anything the page's own code gets wrong fails the run: uncaught errors, CSP refusals.
const problems = [];
page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
page.on('console', (message) => {
  // Answers of 4xx are part of the test (wrong password, 409, 404 for the absent chat routes).
  if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
    problems.push(`console error: ${message.text()}`);
  }
});

let step = '';
const log = (text) => {
  step = text;
  console.log(`- ${text}`);
};
function check(condition, message) {
  if (!condition) throw new Error(message);
}
/** Retries `probe` until it holds: a list re-renders a moment after the request that fills it. */
async function eventually(probe, message, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    check(Date.now() < deadline, typeof message === 'function' ? await message() : message);
    await page.waitForTimeout(100);
  }
}
async function expectText(locator, text) {
  await locator.filter({ hasText: text }).first().waitFor();
}
/**
 * Every visible table's headings, and the short words of its cells, fit their column: no column
 * squeezed to a letter a line (a thread table once shipped with its date one letter wide).
 */
async function checkColumnsFit(name) {
  const squeezed = await page.evaluate(() => {
    if (window.innerWidth <= 760) return []; // tables are cards there
    const ruler = document.createElement('canvas').getContext('2d');
    const widest = (cell, words) => {
      const style = getComputedStyle(cell);
      ruler.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
      return Math.max(0, ...words.map((word) => ruler.measureText(word).width));
    };
    return [...document.querySelectorAll('table th, table td')]
      // A column of buttons has no heading; its buttons never wrap.
      .filter((cell) => cell.offsetParent !== null && cell.dataset.label !== '')
      .flatMap((cell) => {
        const words = cell.textContent.trim().split(/\s+/)
          .filter((word) => word && (cell.tagName === 'TH' || word.length <= 12));
        const style = getComputedStyle(cell);
        const room = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        return room + 1 < widest(cell, words) ? [`"${cell.textContent.trim().slice(0, 30)}" in ${Math.round(room)} px`] : [];
      });
  });
  check(squeezed.length === 0, `${name}: columns too narrow for their words: ${squeezed.slice(0, 5).join('; ')}`);
}
/** Nothing wider than the window: the page never scrolls sideways. */
async function checkNoOverflow(name) {
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(wide <= 0, `${name}: the page is ${wide} px wider than the window`);
}
const shot = async (name) => {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  if (name !== 'failure') {
    await checkColumnsFit(name);
    await checkNoOverflow(name);
  }
};
const panel = (name) => page.locator(`#panel-${name}`);
const notice = page.locator('#notice');
const threadRows = panel('threads').locator('tbody tr');
async function settle() {
  await page.waitForFunction(() => !document.body.classList.contains('busy') && !document.querySelector('.loading'));
}
/** Confirms the open dialog with `label`. */
async function confirmDialog(label, screenshot) {
  const dialog = page.locator('dialog[open]');
  await dialog.waitFor();
  if (screenshot) await shot(screenshot);
  await dialog.getByRole('button', { name: label }).click();
}

/** A field's warning: the one placed beside the input labelled `label` in `scope`. */
const warningAt = (scope, label) => scope.locator('.field, .cell-field', { has: page.getByLabel(label, { exact: true }) }).locator('.field-warning');
async function expectWarning(scope, label, text) {
  const slot = warningAt(scope, label);
  await expectText(slot, text);
  check(await slot.isVisible(), `the warning at ${label} is shown`);
  check(await scope.getByLabel(label, { exact: true }).evaluate((input) => input.classList.contains('has-warning')), `${label} is marked`);
}
const generationBox = page.getByRole('region', { name: 'Generation' });
const stepTab = (name) => page.getByRole('tab', { name });

async function agencyDay() {
  log('the page loads and asks to sign in');
  const response = await page.goto(`${base}/admin`);
  check(response.ok(), `GET /admin answered ${response.status()}`);
  const signIn = page.getByRole('form', { name: 'Sign in' });
  await signIn.waitFor();

  log('a wrong password shows the API\'s message');
  await signIn.getByLabel('Email').fill(adminEmail);
  await signIn.getByLabel('Password').fill('not the password');
  await signIn.getByRole('button', { name: 'Sign in' }).click();
  await expectText(signIn.locator('.form-error'), 'Incorrect email or password');
  await shot('01-sign-in-error');

  log('signing in shows the companies');
  await signIn.getByLabel('Password').fill(adminPassword);
  await signIn.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Companies' }).waitFor();
  await expectText(page.locator('#whoami'), adminEmail);
  check(await page.getByRole('link', { name: 'API docs' }).getAttribute('href') === '/docs', 'a link to Swagger UI');

  log('a reload keeps the session');
  await page.reload();
  await page.getByRole('heading', { name: 'Companies' }).waitFor();
  await expectText(page.locator('#whoami'), adminEmail);

  log('creating a company opens it');
  const createCompany = page.getByRole('form', { name: 'Create a company' });
  await createCompany.getByRole('button', { name: 'Create company' }).click();
  await expectText(createCompany.locator('.form-error'), 'name');
  await createCompany.getByLabel('Name').fill('Acme Bakery');
  await createCompany.getByRole('button', { name: 'Create company' }).click();
  await page.getByRole('heading', { name: 'Acme Bakery' }).waitFor();
  const companyUrl = page.url();

  log('registering a Google Ads customer, with the API\'s validation message first');
  await page.getByRole('tab', { name: 'Google Ads customers' }).click();
  const customerForm = page.getByRole('form', { name: 'Register a Google Ads customer' });
  await customerForm.getByLabel('Customer id').fill('123-456-7890');
  await customerForm.getByRole('button', { name: 'Register' }).click();
  await expectText(customerForm.locator('.field-error:not([hidden])'), 'invalid type');
  await customerForm.getByLabel('Customer id').fill('1234567890');
  await customerForm.getByLabel('Descriptive name').fill('Acme Ads');
  await customerForm.getByLabel('Currency code').fill('EUR');
  await customerForm.getByLabel('Time zone').fill('Europe/Paris');
  await customerForm.getByLabel('Status').fill('ENABLED');
  await customerForm.getByRole('button', { name: 'Register' }).click();
  await expectText(panel('customers').locator('tbody tr'), 'Acme Ads');

  log('editing the customer');
  await panel('customers').getByRole('button', { name: 'Edit' }).click();
  const customerEdit = page.getByRole('form', { name: 'Edit Google Ads customer' });
  check(await customerEdit.getByLabel('Customer id').getAttribute('readonly') !== null, 'the id cannot change');
  await customerEdit.getByLabel('Status').fill('PAUSED');
  await customerEdit.getByRole('button', { name: 'Save changes' }).click();
  await expectText(panel('customers').locator('tbody tr'), 'PAUSED');
  await settle();
  await shot('02-customers');

  log('registering a Business location with its address');
  await page.getByRole('tab', { name: 'Business locations' }).click();
  const locationForm = page.getByRole('form', { name: 'Register a Business location' });
  await locationForm.getByLabel('Location id').fill('locations/4242');
  await locationForm.getByLabel('Title').fill('Acme Paris');
  await locationForm.getByLabel('Store code').fill('PAR-1');
  await locationForm.getByLabel('Maps URI').fill('https://maps.google.com/?cid=42');
  await locationForm.getByLabel('Address lines').fill('1 rue de Rivoli\nBâtiment B');
  await locationForm.getByLabel('Postal code').fill('75001');
  await locationForm.getByLabel('Locality', { exact: true }).fill('Paris');
  await locationForm.getByLabel('Region code').fill('FR');
  await locationForm.getByRole('button', { name: 'Register' }).click();
  await expectText(panel('locations').locator('tbody tr'), '1 rue de Rivoli, Bâtiment B, 75001 Paris, FR');

  log('editing the location (its id has a slash)');
  await panel('locations').getByRole('button', { name: 'Edit' }).click();
  const locationEdit = page.getByRole('form', { name: 'Edit Business location' });
  await locationEdit.getByLabel('Title').fill('Acme Paris Rivoli');
  await locationEdit.getByRole('button', { name: 'Save changes' }).click();
  await expectText(panel('locations').locator('tbody tr'), 'Acme Paris Rivoli');
  await settle();
  await shot('03-locations');

  log('creating threads for two assistants, one scoped to the customer and location');
  await page.getByRole('tab', { name: 'Chat threads' }).click();
  const threadForm = page.getByRole('form', { name: 'Create a thread' });
  await threadForm.getByLabel('Extra data').fill('{"source": "browser"');
  await threadForm.getByRole('button', { name: 'Create thread' }).click();
  await expectText(threadForm.locator('.form-error'), 'not valid JSON');
  await threadForm.getByLabel('Assistant').selectOption('onboarding');
  await threadForm.getByLabel('Name', { exact: true }).fill('Onboarding Acme');
  await threadForm.getByLabel('Description').fill('First steps');
  await threadForm.getByLabel('Google Ads customer').selectOption('1234567890');
  await threadForm.getByLabel('Business location').selectOption('locations/4242');
  await threadForm.getByLabel('Extra data').fill('{"source": "browser", "nested": {"answer": 42}}');
  await threadForm.getByRole('button', { name: 'Create thread' }).click();
  await expectText(threadRows, 'Onboarding Acme');
  await threadForm.getByLabel('Assistant').selectOption('campaign_creation');
  await threadForm.getByLabel('Name', { exact: true }).fill('Spring campaign');
  await threadForm.getByRole('button', { name: 'Create thread' }).click();
  await expectText(threadRows, 'Spring campaign');
  await eventually(async () => await threadRows.count() === 2, 'two threads listed');

  log('filtering by assistant type, customer and location');
  const filters = page.getByRole('form', { name: 'Filter threads' });
  await filters.getByLabel('Assistant').selectOption('campaign_creation');
  await settle();
  await eventually(async () => await threadRows.count() === 1 && (await threadRows.first().innerText()).includes('Spring campaign'), 'only the campaign thread');
  await filters.getByLabel('Assistant').selectOption('');
  await filters.getByLabel('Google Ads customer').selectOption('1234567890');
  await settle();
  await eventually(async () => await threadRows.count() === 1 && (await threadRows.first().innerText()).includes('Onboarding Acme'), 'only the scoped thread');
  await filters.getByLabel('Google Ads customer').selectOption('');
  await filters.getByLabel('Business location').selectOption('locations/4242');
  await settle();
  await eventually(async () => await threadRows.count() === 1, 'only the thread at the location');
  await filters.getByLabel('Business location').selectOption('');
  await settle();

  log('paging: 20 more threads, then "Load more" follows the Link header');
  const companyId = Number(companyUrl.split('/').pop());
  const made = await page.evaluate(async (company) => {
    const { token } = JSON.parse(localStorage.getItem('adthread.session'));
    const statuses = [];
    for (let n = 1; n <= 20; n += 1) {
      const answer = await fetch(`/api/v1/chat/threads?company_id=${company}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ assistant_type: 'general', name: `Bulk ${n}` }),
      });
      statuses.push(answer.status);
    }
    return statuses;
  }, companyId);
  check(made.every((status) => status === 200), `bulk threads: ${made}`);
  await filters.getByLabel('Completed').selectOption('false');
  await settle();
  await eventually(async () => await threadRows.count() === 20, async () => `a first page of 20, got ${await threadRows.count()}`);
  await panel('threads').getByRole('button', { name: 'Load more' }).click();
  await settle();
  await eventually(async () => await threadRows.count() === 22, async () => `22 after the next page, got ${await threadRows.count()}`);
  check(await panel('threads').getByRole('button', { name: 'Load more' }).count() === 0, 'no further page');
  await filters.getByLabel('Completed').selectOption('');
  await settle();
  await shot('04-threads');

  log('a thread shows every field, extra_data pretty-printed, and its conversation panel');
  await filters.getByLabel('Assistant').selectOption('onboarding');
  await settle();
  await panel('threads').getByRole('link', { name: /Onboarding Acme/ }).click();
  await page.getByRole('heading', { name: 'Onboarding Acme' }).waitFor();
  const fields = page.locator('dl.details');
  for (const text of ['Onboarding (asst_onboarding)', 'First steps', 'Acme Ads (1234567890)', 'Acme Paris Rivoli (locations/4242)', 'EUR', '1 rue de Rivoli']) {
    await expectText(fields, text);
  }
  const extra = await page.getByRole('region', { name: 'Thread fields' }).locator('pre.json').innerText();
  check(extra.includes('"source": "browser"') && extra.includes('\n    "answer": 42'), `extra_data pretty-printed: ${extra}`);
  const conversation = page.getByRole('region', { name: 'Conversation' });
  await conversation.locator('p').first().waitFor();
  await page.waitForFunction(() => !document.querySelector('.conversation .loading'));
  const chatStatus = await conversation.locator('p').first().innerText();
  const chatAvailable = !chatStatus.includes('no conversation endpoints');
  console.log(`  conversation endpoints ${chatAvailable ? 'present' : 'absent'}: ${chatStatus}`);
  if (chatAvailable) {
    log('writing to the onboarding assistant streams its reply in');
    await conversation.getByRole('textbox').fill('We bake sourdough bread in Paris');
    await conversation.getByRole('button', { name: 'Send' }).click();
    await conversation.locator('.message-user').filter({ hasText: 'sourdough' }).waitFor();
    await conversation.locator('.message-assistant:not(.streaming)').first().waitFor();
    check(await conversation.locator('.form-error:not([hidden])').count() === 0, 'no error after sending');
    check((await conversation.locator('.message-assistant .message-text').first().innerText()).trim() !== '', 'a reply');
  } else {
    check(await conversation.getByRole('button', { name: 'Send' }).isHidden(), 'nothing to send to');
  }

  log('renaming and marking the thread completed');
  const rename = page.getByRole('form', { name: 'Rename the thread' });
  await rename.getByLabel('Name').fill('Onboarding Acme (renamed)');
  await rename.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: 'Onboarding Acme (renamed)' }).waitFor();
  await page.getByRole('button', { name: 'Mark completed' }).click();
  await page.getByRole('button', { name: 'Reopen' }).waitFor();
  await expectText(fields, 'yes');
  await expectText(conversation, 'This thread is completed: reopen it to write');
  check(await conversation.getByRole('button', { name: 'Send' }).isDisabled(), 'a completed thread takes no message');
  await settle();
  await shot('05-thread');
  await page.getByRole('button', { name: 'Reopen' }).click();
  await page.getByRole('button', { name: 'Mark completed' }).waitFor();
  check(await conversation.getByRole('button', { name: 'Send' }).isEnabled(), 'reopened, it takes messages again');
  await page.getByRole('button', { name: 'Mark completed' }).click();
  await page.getByRole('button', { name: 'Reopen' }).waitFor();

  log('the completed filter finds it');
  await page.getByRole('link', { name: '← Company' }).click();
  await page.getByRole('heading', { name: 'Acme Bakery' }).waitFor();
  await page.getByRole('form', { name: 'Filter threads' }).getByLabel('Completed').selectOption('true');
  await settle();
  await eventually(async () => await threadRows.count() === 1 && (await threadRows.first().innerText()).includes('(renamed)'), 'only the completed thread');

  log('a customer used by a thread cannot be removed: the 409 shows');
  await page.getByRole('tab', { name: 'Google Ads customers' }).click();
  await panel('customers').getByRole('button', { name: 'Remove' }).click();
  await confirmDialog('Remove');
  await expectText(notice, 'is used by 1 chat thread');
  check(await panel('customers').locator('tbody tr').count() === 1, 'the customer is still there');

  log('deleting the thread asks first');
  await page.getByRole('tab', { name: 'Chat threads' }).click();
  await threadRows.first().getByRole('link').click();
  await page.getByRole('heading', { name: 'Onboarding Acme (renamed)' }).waitFor();
  await page.getByRole('button', { name: 'Delete thread' }).click();
  await confirmDialog('Delete', '06-confirm-delete');
  await page.getByRole('heading', { name: 'Acme Bakery' }).waitFor();
  await expectText(notice, 'was deleted');
  await page.getByRole('form', { name: 'Filter threads' }).getByLabel('Completed').selectOption('true');
  await settle();
  await eventually(async () => await threadRows.count() === 0, 'no completed thread left');

  log('adding and removing a member');
  await page.getByRole('tab', { name: 'Members' }).click();
  const memberForm = page.getByRole('form', { name: 'Add a member' });
  await memberForm.getByLabel('Email').fill('nobody@nowhere.test');
  await memberForm.getByRole('button', { name: 'Add member' }).click();
  await expectText(memberForm.locator('.form-error'), 'No user with the email nobody@nowhere.test');
  await memberForm.getByLabel('Email').fill(userEmail);
  await memberForm.getByRole('button', { name: 'Add member' }).click();
  const memberRows = panel('members').locator('tbody tr');
  await expectText(memberRows, userEmail);
  await settle();
  await shot('07-members');
  await memberRows.filter({ hasText: userEmail }).getByRole('button', { name: 'Remove' }).click();
  await confirmDialog('Remove');
  await expectText(notice, 'was removed');
  await settle();
  check(await memberRows.filter({ hasText: userEmail }).count() === 0, 'the member is gone');

  await draftWizard(companyUrl);

  log('an administrator creates a user and deactivates another');
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByRole('heading', { name: 'Users' }).waitFor();
  const userForm = page.getByRole('form', { name: 'Create a user' });
  await userForm.getByLabel('Email').fill('newcomer@agency.test');
  await userForm.getByLabel('Password').fill('short');
  await userForm.getByRole('button', { name: 'Create user' }).click();
  await expectText(userForm.locator('.field-error:not([hidden])'), 'at least 8 characters');
  await userForm.getByLabel('Password').fill('newcomer-password');
  await userForm.getByLabel('First name').fill('Nora');
  await userForm.getByRole('button', { name: 'Create user' }).click();
  const userRows = page.locator('main tbody tr');
  await expectText(userRows, 'newcomer@agency.test');
  const target = userRows.filter({ hasText: userEmail });
  await target.getByRole('button', { name: 'Deactivate' }).click();
  await confirmDialog('Deactivate');
  await expectText(userRows.filter({ hasText: userEmail }), 'deactivated');
  await userRows.filter({ hasText: userEmail }).getByRole('button', { name: 'Reactivate' }).waitFor();
  check(await userRows.filter({ hasText: '(you)' }).getByRole('button', { name: 'Deactivate' }).count() === 0,
    'no button to deactivate oneself');
  await settle();
  await shot('08-users');

  log('phone width');
  await page.setViewportSize({ width: 390, height: 844 });
  await shot('09-users-phone');
  await page.goto(companyUrl);
  await page.getByRole('heading', { name: 'Acme Bakery' }).waitFor();
  await page.getByRole('tab', { name: 'Chat threads' }).click();
  await page.getByRole('form', { name: 'Filter threads' }).getByLabel('Assistant').selectOption('campaign_creation');
  await settle();
  await shot('10-threads-phone');
  await page.setViewportSize({ width: 1280, height: 860 });

  log('signing out revokes the token');
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem('adthread.session')).token);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('form', { name: 'Sign in' }).waitFor();
  const after = await page.evaluate(async (bearer) => (await fetch('/api/v1/users/me', { headers: { Authorization: `Bearer ${bearer}` } })).status, token);
  check(after === 401, `the old token answered ${after}`);
  await page.reload();
  await page.getByRole('form', { name: 'Sign in' }).waitFor();
  check(await page.evaluate(() => localStorage.getItem('adthread.session')) === null, 'nothing left in localStorage');

}

/** The campaign draft wizard, without a model: every step by hand, warnings, validate, 503. */
async function draftWizard(companyUrl) {
  log('campaign drafts: one created and deleted from the list, after a confirmation');
  await page.goto(companyUrl);
  await page.getByRole('heading', { name: 'Acme Bakery' }).waitFor();
  await page.getByRole('tab', { name: 'Campaign drafts' }).click();
  const draftForm = page.getByRole('form', { name: 'Create a campaign draft' });
  await draftForm.getByLabel('Name').fill('Draft to delete');
  await draftForm.getByRole('button', { name: 'Create draft' }).click();
  await expectText(draftForm.locator('.field-error:not([hidden])'), 'Required');
  await draftForm.getByLabel('Google Ads customer').selectOption('1234567890');
  await draftForm.getByRole('button', { name: 'Create draft' }).click();
  await page.getByRole('heading', { name: 'Draft to delete' }).waitFor();
  await page.getByRole('link', { name: '← Company' }).click();
  await page.getByRole('heading', { name: 'Acme Bakery' }).waitFor();
  const draftRows = panel('drafts').locator('tbody tr');
  await expectText(draftRows, 'Draft to delete');
  await draftRows.filter({ hasText: 'Draft to delete' }).getByRole('button', { name: 'Delete' }).click();
  await confirmDialog('Delete', '11-confirm-delete-draft');
  await expectText(notice, 'was deleted');
  await eventually(async () => await draftRows.count() === 0, 'the draft is gone from the list');

  log('a second draft opens its wizard on the settings step');
  await page.getByRole('form', { name: 'Create a campaign draft' }).getByLabel('Name').fill('Spring sale');
  await page.getByRole('form', { name: 'Create a campaign draft' }).getByLabel('Google Ads customer').selectOption('1234567890');
  await page.getByRole('form', { name: 'Create a campaign draft' }).getByRole('button', { name: 'Create draft' }).click();
  await page.getByRole('heading', { name: 'Spring sale' }).waitFor();
  const draftUrl = page.url();

  log('step 1: a budget of 0 is saved, with its warning at the field');
  const settings = page.getByRole('form', { name: 'Campaign settings' });
  await settings.getByLabel('Campaign name').fill('Acme Spring Sale');
  await settings.getByLabel('Website URL').fill('https://acme.example');
  await settings.getByLabel('Daily budget').fill('0');
  await settings.getByLabel('Bidding strategy').selectOption('MAXIMIZE_CONVERSIONS');
  await settings.getByLabel('Default match type').selectOption('PHRASE');
  await settings.getByLabel('Language ids').fill('1002');
  await settings.getByLabel('Location ids').fill('2250, 1006094');
  await settings.getByLabel('Start date').fill('2027-03-01');
  await settings.getByLabel('Target CPA').fill('ten');
  await settings.getByRole('button', { name: 'Save settings' }).click();
  await expectText(settings.locator('.field-error:not([hidden])'), '“ten” is not an amount');
  check(await page.evaluate(async (url) => {
    const { token } = JSON.parse(localStorage.getItem('adthread.session'));
    const draft = await (await fetch(`/api/v1/campaigns/drafts/${url.match(/drafts\/(\d+)/)[1]}`, { headers: { Authorization: `Bearer ${token}` } })).json();
    return draft.campaign_name === null;
  }, draftUrl), 'a refused amount sends nothing');
  await settings.getByLabel('Target CPA').fill('');
  await settings.getByRole('button', { name: 'Save settings' }).click();
  await expectText(notice, 'Saved, with 1 warning');
  await expectWarning(page.getByRole('form', { name: 'Campaign settings' }), 'Daily budget', 'greater than 0');
  await settle();
  await shot('12-draft-settings-warning');
  await page.getByRole('form', { name: 'Campaign settings' }).getByLabel('Daily budget').fill('25.50');
  await page.getByRole('form', { name: 'Campaign settings' }).getByRole('button', { name: 'Save settings' }).click();
  await expectText(notice, 'Saved.');
  check(await warningAt(page.getByRole('form', { name: 'Campaign settings' }), 'Daily budget').isHidden(), 'the budget warning is gone');

  log('step 2: an ad group with two keywords');
  await stepTab('Ad groups & keywords').click();
  let groups = page.getByRole('form', { name: 'Ad groups and keywords' });
  await groups.getByRole('button', { name: 'Add ad group' }).click();
  await groups.getByLabel('Ad group name').fill('Sourdough');
  await groups.getByRole('button', { name: 'Add keyword' }).click();
  await groups.getByLabel('Keyword 1', { exact: true }).fill('sourdough bread');
  check(await groups.getByLabel('Keyword 1 match type').inputValue() === 'PHRASE', 'a new keyword takes the default match type');
  await groups.getByRole('button', { name: 'Add keyword' }).click();
  await groups.getByLabel('Keyword 2', { exact: true }).fill('organic bakery paris');
  await groups.getByLabel('Keyword 2 match type').selectOption('EXACT');
  await groups.getByLabel('Keyword 2 max CPC').fill('0');
  await groups.getByRole('button', { name: 'Save ad groups' }).click();
  await expectText(notice, 'Saved, with 1 warning');
  groups = page.getByRole('form', { name: 'Ad groups and keywords' });
  await expectWarning(groups, 'Keyword 2 max CPC', 'greater than 0');
  await groups.getByLabel('Keyword 2 max CPC').fill('');
  await groups.getByRole('button', { name: 'Save ad groups' }).click();
  await expectText(notice, 'Saved.');
  await settle();
  await shot('13-draft-ad-groups');

  log('step 3: an RSA with a 31-character headline, saved with its warning at that headline');
  await stepTab('Ads').click();
  let ads = page.getByRole('form', { name: 'Ads' });
  await expectText(ads.locator('.step-warnings, h3'), 'Ad group: Sourdough');
  await ads.getByRole('button', { name: 'Add RSA' }).click();
  for (let n = 0; n < 3; n += 1) await ads.getByRole('button', { name: 'Add headline' }).click();
  for (let n = 0; n < 2; n += 1) await ads.getByRole('button', { name: 'Add description' }).click();
  const longHeadline = 'Sourdough Baked Fresh Every Day';
  check(longHeadline.length === 31, 'the long headline has 31 characters');
  await ads.getByLabel('Headline 1', { exact: true }).fill('Fresh Sourdough Daily');
  await ads.getByLabel('Headline 2', { exact: true }).fill('Organic Bakery in Paris');
  await ads.getByLabel('Headline 3', { exact: true }).fill(longHeadline);
  await ads.getByLabel('Headline 1 pinned position').selectOption('1');
  await ads.getByLabel('Description 1', { exact: true }).fill('Bread baked each morning from organic flour.');
  await ads.getByLabel('Description 2', { exact: true }).fill('Order before 10am, pick up at noon.');
  await ads.getByLabel('Path 1').fill('sourdough');
  await ads.getByRole('button', { name: 'Save ads' }).click();
  await expectText(notice, 'Saved, with 1 warning');
  ads = page.getByRole('form', { name: 'Ads' });
  await expectWarning(ads, 'Headline 3', '31 characters');
  check(await warningAt(ads, 'Headline 2').isHidden(), 'no warning at the other headlines');
  log('without a model, "Generate RSAs" says so clearly');
  await ads.getByRole('button', { name: 'Generate RSAs' }).click();
  await expectText(notice, 'Generation is not available. Generating copy needs a language model');
  await settle();
  await shot('14-draft-ads');

  log('step 4: extensions, a snippet with too few values warned at its values');
  await stepTab('Extensions').click();
  const extensions = page.getByRole('form', { name: 'Extensions' });
  await extensions.getByRole('button', { name: 'Add sitelink' }).click();
  await extensions.getByLabel('Sitelink 1 link text').fill('Our Breads');
  await extensions.getByLabel('Sitelink 1 description 1').fill('Sourdough, rye and more');
  await extensions.getByLabel('Sitelink 1 final URL').fill('https://acme.example/bread');
  await extensions.getByRole('button', { name: 'Add callout' }).click();
  await extensions.getByLabel('Callout 1', { exact: true }).fill('Organic Flour');
  await extensions.getByLabel('Phone number').fill('+33 1 23 45 67 89');
  await extensions.getByLabel('Country code').fill('FR');
  await extensions.getByRole('button', { name: 'Add snippet' }).click();
  await extensions.getByLabel('Snippet 1 header').fill('TYPES');
  await extensions.getByLabel('Snippet 1 values').fill('Sourdough, Rye');
  await extensions.getByRole('button', { name: 'Save extensions' }).click();
  await expectText(notice, 'Saved, with 1 warning');
  await expectWarning(page.getByRole('form', { name: 'Extensions' }), 'Snippet 1 values', 'at least 3');
  await page.getByRole('form', { name: 'Extensions' }).getByRole('button', { name: 'Generate extensions' }).click();
  await expectText(notice, 'Generation is not available');
  await settle();
  await shot('15-draft-extensions');

  log('validate lists the errors (the long headline) and advice');
  await page.getByRole('button', { name: 'Validate' }).click();
  const validation = page.getByRole('region', { name: 'Validation' });
  await expectText(validation, 'Not ready');
  await expectText(validation.locator('li'), '31 characters');
  await expectText(validation.locator('.advice li'), 'sitelink');
  await settle();
  await shot('16-draft-validate');

  log('a reload shows every step as saved');
  await page.goto(draftUrl);
  await page.reload();
  await page.getByRole('heading', { name: 'Spring sale' }).waitFor();
  await stepTab('Settings').click();
  const kept = page.getByRole('form', { name: 'Campaign settings' });
  check(await kept.getByLabel('Campaign name').inputValue() === 'Acme Spring Sale', 'campaign name kept');
  check(await kept.getByLabel('Daily budget').inputValue() === '25.5', 'budget kept');
  check(await kept.getByLabel('Location ids').inputValue() === '2250, 1006094', 'locations kept');
  check(await kept.getByLabel('Start date').inputValue() === '2027-03-01', 'start date kept');
  await stepTab('Ad groups & keywords').click();
  check(await page.getByLabel('Keyword 2 match type').inputValue() === 'EXACT', 'match type kept');
  await stepTab('Ads').click();
  check(await page.getByLabel('Headline 3', { exact: true }).inputValue() === longHeadline, 'the long headline kept');
  check(await page.getByLabel('Headline 1 pinned position').inputValue() === '1', 'the pin kept');
  await stepTab('Extensions').click();
  check(await page.getByLabel('Callout 1', { exact: true }).inputValue() === 'Organic Flour', 'callout kept');
  check(await page.getByLabel('Snippet 1 values').inputValue() === 'Sourdough, Rye', 'snippet values kept');
  check(await page.getByLabel('Phone number').inputValue() === '+33 1 23 45 67 89', 'phone kept');

  log('the wizard at phone width');
  await stepTab('Ads').click();
  await page.setViewportSize({ width: 390, height: 844 });
  await settle();
  await shot('17-draft-ads-phone');
  await page.setViewportSize({ width: 1280, height: 860 });

  log('the list shows the draft with its customer, at desktop and phone width');
  await page.goto(companyUrl);
  await page.getByRole('heading', { name: 'Acme Bakery' }).waitFor();
  await page.getByRole('tab', { name: 'Campaign drafts' }).click();
  await expectText(panel('drafts').locator('tbody tr'), 'Acme Ads (1234567890)');
  await expectText(panel('drafts').locator('tbody tr'), 'not started');
  await settle();
  await shot('18-drafts');
  await page.setViewportSize({ width: 390, height: 844 });
  await shot('19-drafts-phone');
  await page.setViewportSize({ width: 1280, height: 860 });

  log('a thread without a campaign draft shows no draft link');
  const companyId = Number(companyUrl.split('/').pop());
  const bare = await page.evaluate(async (company) => {
    const { token } = JSON.parse(localStorage.getItem('adthread.session'));
    const headers = { Authorization: `Bearer ${token}` };
    const threads = await (await fetch(`/api/v1/chat/threads?company_id=${company}`, { headers })).json();
    const thread = threads.find((t) => t.name === 'Spring campaign');
    const answer = await fetch(`/api/v1/chat/threads/${encodeURIComponent(thread.thread_id)}/campaign-draft`, { headers });
    return { thread: thread.thread_id, status: answer.status };
  }, companyId);
  check(bare.status === 404, `no model, no assistant step: the thread has no draft (${bare.status})`);
  await page.goto(`${base}/admin#/threads/${encodeURIComponent(bare.thread)}?company=${companyId}`);
  await page.getByRole('heading', { name: 'Spring campaign' }).waitFor();
  await settle();
  check(await page.getByRole('link', { name: 'Campaign draft' }).count() === 0,
    'no draft link without a draft');
}

/** Generation from the wizard against the stand-in model, its status shown until complete. */
async function draftGeneration() {
  log('signing in and opening the draft');
  await page.goto(`${base}/admin`);
  const signIn = page.getByRole('form', { name: 'Sign in' });
  await signIn.getByLabel('Email').fill(adminEmail);
  await signIn.getByLabel('Password').fill(adminPassword);
  await signIn.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Companies' }).waitFor();
  await page.goto(`${base}/admin${draftHash}`);
  await stepTab('Ads').click();

  log('"Generate RSAs" shows the status while the model writes, then the three RSAs');
  await page.getByRole('button', { name: 'Generate RSAs' }).click();
  await expectText(generationBox, 'Generating');
  await shot('01-generating');
  await expectText(generationBox.locator('h2'), 'Generation is complete');
  await expectText(generationBox, '3 completed, 0 waiting, 0 failed');
  const ads = page.getByRole('form', { name: 'Ads' });
  await eventually(async () => await ads.locator('fieldset.rsa').count() === 3, 'three RSAs shown');
  check(await ads.getByLabel('Headline 1', { exact: true }).first().inputValue() === 'Fresh Bread Every Morning', 'generated headline shown');
  await expectText(ads.locator('fieldset.rsa legend').first(), 'completed');
  await settle();
  await shot('02-generated-ads');

  log('with unsaved edits in the ads, "Generate RSAs" asks to save them first');
  await ads.getByRole('button', { name: 'Add headline' }).first().click();
  await page.getByRole('button', { name: 'Generate RSAs' }).click();
  await expectText(page.locator('#notice'), 'Save your changes to the ads first');
  await stepTab('Settings').click();
  await page.getByLabel('Campaign name').fill('Typed, not saved');

  log('"Generate extensions" adds sitelinks, callouts and snippets');
  await stepTab('Extensions').click();
  await page.getByRole('button', { name: 'Generate extensions' }).click();
  await eventually(async () => (await generationBox.innerText()).includes('Extensions: completed'), 'extensions completed');
  const extensions = page.getByRole('form', { name: 'Extensions' });
  await eventually(async () => await extensions.getByLabel('Callout 3', { exact: true }).count() === 1, 'three callouts shown');
  check(await extensions.getByLabel('Callout 1', { exact: true }).inputValue() === 'Organic Flour', 'generated callout');
  check(await extensions.getByLabel('Sitelink 2 link text').inputValue() === 'Order Online', 'generated sitelink');
  await expectText(generationBox, 'Steps with unsaved changes still show them');
  check(!/\b(null|undefined)\b/.test(await generationBox.innerText()), `no stray null: ${await generationBox.innerText()}`);
  await settle();
  await shot('03-generated-extensions');

  log('unsaved edits of other steps are kept until the person discards them');
  await stepTab('Settings').click();
  check(await page.getByLabel('Campaign name').inputValue() === 'Typed, not saved', 'the unsaved campaign name is kept');
  await generationBox.getByRole('button', { name: 'Discard my changes and show it' }).click();
  await eventually(async () => await page.getByLabel('Campaign name').inputValue() === '', 'the saved (empty) campaign name');
  await stepTab('Ads').click();
  await eventually(async () => await page.getByRole('form', { name: 'Ads' }).getByLabel('Headline 6', { exact: true }).count() === 0,
    'the unsaved headline is gone');

  log('validating the generated draft: the settings it still lacks');
  await page.getByRole('button', { name: 'Validate' }).click();
  const validation = page.getByRole('region', { name: 'Validation' });
  await expectText(validation.locator('li'), 'campaign_name');
  check(!/\b(null|undefined)\b/.test(await validation.innerText()), `no stray null: ${await validation.innerText()}`);

  log('the thread the draft came from links it, one click away');
  const draftId = draftHash.match(/#\/drafts\/(\d+)/)[1];
  const companyId = draftHash.match(/company=(\d+)/)[1];
  await page.goto(`${base}/admin#/threads/${encodeURIComponent(draftThread)}?company=${companyId}`);
  await page.getByRole('heading', { name: 'Spring sale thread' }).waitFor();
  await settle();
  await shot('04-thread-with-draft');
  await page.getByRole('link', { name: 'Campaign draft' }).click();
  await page.getByRole('tab', { name: 'Settings' }).waitFor();
  check(page.url().includes(`#/drafts/${draftId}`), `the link opens the thread's draft: ${page.url()}`);
}

try {
  if (draftHash) await draftGeneration();
  else await agencyDay();
  check(problems.length === 0, problems.join('\n'));
  console.log('ok');
} catch (err) {
  console.error(`FAILED at "${step}": ${err.message}`);
  if (problems.length) console.error(problems.join('\n'));
  await shot('failure').catch(() => {});
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
