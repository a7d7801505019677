// telegram-test-api as the tests start it: node server.js PORT; prints {"ready": URL} once listening, stops when
// its standard input closes (the test process ended) or on SIGTERM.
const routes = require('telegram-test-api/lib/routes/index').routes;
const { getMe } = require('telegram-test-api/lib/routes/bot/getMe');
const TelegramServer = require('telegram-test-api');

// The one deviation made good here: the emulator's getMe answers a User without `is_bot`, which the Bot API
// always sends and python-telegram-bot requires (without it no bot can start). Everything else is the emulator's.
routes[routes.indexOf(getMe)] = (app) => {
  app.all('/bot:token/getMe', (_req, res) => {
    res.sendResult({ ok: true, result: { id: 666, is_bot: true, first_name: 'Test First name', username: 'TestNameBot' } });
  });
};

const server = new TelegramServer({ port: Number(process.argv[2]), host: '127.0.0.1', storeTimeout: 3600 });
const stop = () => server.stop().then(() => process.exit(0));
server.start().then(() => console.log(JSON.stringify({ ready: server.config.apiURL })));
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
