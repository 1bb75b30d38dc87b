// board.mjs: the status board (/board) in a real browser. Debian's
// chromium, headless, JavaScript on, a 1920x1080 screen, driven by
// playwright-core (never downloads a browser).
//
//   node board.mjs BOARD_URL ALERT_ID SCREENSHOT_DIR RESPONSE LINK...
//
// Opens the board, marks the loaded document (a window property), then
// confirms each recipient LINK with RESPONSE by a POST from curl while the
// page stays open. Passes when the alert's confirmed count on the page
// rises by the number of LINKs through the event stream, with no
// navigation (one load, the mark still there), the drill banner
// 【訓練】 shown, no console error (a CSP violation is one) and no request
// outside the daemon. Writes board-before.png and board-after.png.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [boardUrl, alertId, shots, response, ...links] = process.argv.slice(2);
if (!boardUrl || !alertId || !shots || !response || links.length === 0) {
	console.error('usage: node board.mjs BOARD_URL ALERT_ID DIR RESPONSE LINK...');
	process.exit(2);
}
const origin = new URL(boardUrl).origin;
const profile = mkdtempSync(join(tmpdir(), 'cc-chromium-'));
const problems = [];

// Polls get() until it returns true (10 ms turns, at most ms). Not
// page.waitForFunction: that evaluates a string, which the board's CSP
// (rightly) refuses.
async function until(get, ms, what) {
	for (const end = Date.now() + ms; Date.now() < end; ) {
		if (await get())
			return;
		await new Promise(r => setTimeout(r, 100));
	}
	throw new Error('timed out waiting for ' + what);
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
	viewport: { width: 1920, height: 1080 },
	locale: 'ja-JP',
	javaScriptEnabled: true,
	timeout: 30000,
});
try {
	const page = ctx.pages()[0] || await ctx.newPage();
	let navigations = 0;
	page.on('framenavigated', f => {
		if (f === page.mainFrame())
			navigations++;
	});
	page.on('console', m => {
		if (m.type() === 'error')
			problems.push('console: ' + m.text());
	});
	page.on('request', r => {
		if (!r.url().startsWith(origin + '/'))
			problems.push('request outside the daemon: ' + r.url());
	});

	const res = await page.goto(boardUrl);
	check(res.status() === 200, `board: HTTP ${res.status()}`);
	check((await page.title()).includes('状況ボード'), 'board title');
	const sel = `section[data-alert="${alertId}"]`;
	await page.locator(sel).waitFor({ timeout: 10000 });
	check((await page.locator(sel + ' .drill').textContent()).includes('【訓練】'),
	    'the drill banner 【訓練】');
	// The event stream is open (the script says so).
	await until(async () => await page.locator('#live').textContent() ===
	    '自動更新中', 10000, 'the event stream to open');
	await page.evaluate(() => { window.__ccMark = 'loaded-once'; });
	const before = Number(await page.locator(sel + ' .confirmed').textContent());
	await page.screenshot({ path: join(shots, 'board-before.png') });

	for (const link of links) {
		const code = execFileSync('curl', ['-s', '-o', '/dev/null', '-w',
		    '%{http_code}', '--data-urlencode', 'response=' + response,
		    link], { encoding: 'utf8' });
		check(code === '200', `confirm ${link}: HTTP ${code}`);
	}
	const want = before + links.length;
	await until(async () => Number(await page.locator(sel +
	    ' .confirmed').textContent()) === want, 15000,
	    `${want} confirmed on the page`);

	check(await page.evaluate(() => window.__ccMark) === 'loaded-once',
	    'the page was reloaded (the mark set at load is gone)');
	check(navigations === 1, `navigations: ${navigations}, want 1`);
	const updates = await page.evaluate(() =>
	    Number(document.documentElement.getAttribute('data-updates') || 0));
	check(updates >= 1, 'no board event was applied');
	await page.waitForTimeout(300);	// let the layout settle for the shot
	await page.screenshot({ path: join(shots, 'board-after.png') });
	check(problems.length === 0, problems.join('\n'));
	console.log(`browser: board went from ${before} to ${want} confirmed ` +
	    `live (${updates} events, ${navigations} load)`);
} catch (e) {
	console.error('browser: ' + e.message);
	if (problems.length)
		console.error(problems.join('\n'));
	process.exitCode = 1;
} finally {
	await ctx.close();
	rmSync(profile, { recursive: true, force: true });
}
