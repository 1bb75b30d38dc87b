// approve.mjs: a real browser on crisiscastd's pages. Debian's chromium,
// headless, driven by playwright-core (never downloads a browser).
//
//   node approve.mjs APPROVAL_URL RECIPIENT_URL RESPONSE [SCREENSHOT_DIR]
//
// RECIPIENT_URL may be @FILE: the link is read from FILE after the
// approval (the fan-out that the approval starts makes it), waiting up to
// 20 s for the file to appear.
// Opens the approval link on a phone-sized viewport, clicks 承認 and checks
// the result page; opens the recipient link and clicks the RESPONSE button.
// Fails (exit 1) on any unexpected page, on a console error (a CSP
// violation shows up as one), or on a request to anything but the daemon.
import { chromium } from 'playwright-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [approvalUrl, recipientUrl, response, shots = tmpdir()] =
    process.argv.slice(2);
if (!approvalUrl || !recipientUrl || !response) {
	console.error('usage: node approve.mjs APPROVAL_URL RECIPIENT_URL RESPONSE [DIR]');
	process.exit(2);
}
const origin = new URL(approvalUrl).origin;
const profile = mkdtempSync(join(tmpdir(), 'cc-chromium-'));
const problems = [];

async function recipientLink() {
	if (!recipientUrl.startsWith('@'))
		return recipientUrl;
	for (let i = 0; i < 200; i++) {
		try {
			const s = readFileSync(recipientUrl.slice(1), 'utf8').trim();
			if (s)
				return s;
		} catch (e) {
			if (e.code !== 'ENOENT')
				throw e;
		}
		await new Promise(r => setTimeout(r, 100));
	}
	throw new Error('no recipient link in ' + recipientUrl.slice(1));
}

function check(cond, what) {
	if (!cond)
		throw new Error(what);
}

const ctx = await chromium.launchPersistentContext(profile, {
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	headless: true,
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
	    '--no-first-run', '--disable-background-networking',
	    '--disable-component-update', '--disable-sync'],
	viewport: { width: 390, height: 844 },
	deviceScaleFactor: 2,
	isMobile: true,
	hasTouch: true,
	locale: 'ja-JP',
	javaScriptEnabled: false,	// the pages must work without it
	timeout: 30000,
});
try {
	const page = ctx.pages()[0] || await ctx.newPage();
	page.on('console', m => {
		// A 404 is expected once (the used link); anything else that
		// goes to the console as an error (a CSP violation) is not.
		if (m.type() === 'error' &&
		    !m.text().startsWith('Failed to load resource'))
			problems.push('console: ' + m.text());
	});
	page.on('request', r => {
		if (!r.url().startsWith(origin + '/'))
			problems.push('request outside the daemon: ' + r.url());
	});

	// The approval page: read it, screenshot it, approve.
	let res = await page.goto(approvalUrl);
	check(res.status() === 200, `approval page: HTTP ${res.status()}`);
	check((await page.title()).includes('承認依頼'), 'approval page title');
	await page.screenshot({ path: join(shots, 'crisiscast-approval.png'),
	    fullPage: true });
	check(await page.locator('textarea[name=reason]').count() === 1,
	    'the reject form has a reason');
	await Promise.all([page.waitForNavigation(),
	    page.getByRole('button', { name: '承認して送信する' }).click()]);
	let text = await page.textContent('body');
	check(text.includes('承認しました'), 'approval result page: ' + text);
	await page.screenshot({ path: join(shots, 'crisiscast-approved.png') });

	// The same link again is dead.
	res = await page.goto(approvalUrl);
	check(res.status() === 404, `used approval link: HTTP ${res.status()}`);

	// The recipient page: read it, confirm with RESPONSE.
	res = await page.goto(await recipientLink());
	check(res.status() === 200, `recipient page: HTTP ${res.status()}`);
	await page.screenshot({ path: join(shots, 'crisiscast-recipient.png'),
	    fullPage: true });
	await Promise.all([page.waitForNavigation(),
	    page.getByRole('button', { name: response, exact: true }).click()]);
	text = await page.textContent('body');
	check(text.includes('確認しました'), 'confirm result page: ' + text);
	check(text.includes(response), 'confirm page names the response');
	check(problems.length === 0, problems.join('\n'));
	console.log('browser: approved and confirmed');
} catch (e) {
	console.error('browser: ' + e.message);
	if (problems.length)
		console.error(problems.join('\n'));
	process.exitCode = 1;
} finally {
	await ctx.close();
	rmSync(profile, { recursive: true, force: true });
}
