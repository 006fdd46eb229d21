// SEED.md's "TypeScript Client Example", verbatim but for its import path.
// `npx tsc --noEmit` type-checks it (tsconfig includes test/) under strict
// settings; seed-example.test.ts runs it against a fake server.

import { RecommendationEngineWebSocket } from '../lib/websocket-client';

const ws = new RecommendationEngineWebSocket('http://localhost:8000');

// Subscribe to notifications
ws.subscribeToNotifications('user_1', (message) => {
  console.log('New notification:', message);
  // Update UI
});

// Subscribe to trending
ws.subscribeToTrending((message) => {
  console.log('Trending updated:', message.data.topics);
  // Update trending list
});

// Subscribe to feed
ws.subscribeToFeed('user_1', (message) => {
  console.log('New tweets:', message.data.tweets);
  // Add to feed
});

// Subscribe to engagement
ws.subscribeToEngagement('tweet_1', (message) => {
  console.log('Engagement updated:', message.data.engagement);
  // Update engagement counts
});

// Get stats
const stats = await ws.getStats();
console.log('Connected users:', stats.active_users);

// Unsubscribe
ws.unsubscribe('notifications-user_1');
ws.unsubscribeAll(); // Close all connections
