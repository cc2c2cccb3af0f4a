// The receiver snippet from the seed document ("Verifying Webhook Signature"), unchanged, run on a
// real delivery: node seed-verify.js <raw body file> <X-Webhook-Signature> <secret> → prints true/false.
const crypto = require('crypto');
const fs = require('fs');

function verifyWebhook(payload, signature, secret) {
  const parts = signature.split(',');
  const timestamp = parts[0].split('=')[1];
  const receivedSig = parts[1].split('=')[1];

  // Check timestamp (5 min window)
  if (Date.now() - parseInt(timestamp) > 300000) {
    return false;
  }

  // Verify signature
  const message = `${timestamp}.${JSON.stringify(payload)}`;
  const expectedSig = crypto
    .createHmac('sha256', secret)
    .update(message)
    .digest('hex');

  return crypto.timingSafeEqual(
    Buffer.from(receivedSig),
    Buffer.from(expectedSig)
  );
}

const [bodyFile, signature, secret] = process.argv.slice(2);
const payload = JSON.parse(fs.readFileSync(bodyFile, 'utf8'));
process.stdout.write(String(verifyWebhook(payload, signature, secret)));
