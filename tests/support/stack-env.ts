/** The local stack's connection strings (scripts/stack.sh env); tests fail loudly without them. */
export function stackEnv(): { pgDsn: string; redisUrl: string; natsUrl: string } {
  const pgDsn = process.env.COMMUCAT_PG_DSN;
  const redisUrl = process.env.COMMUCAT_REDIS_URL;
  const natsUrl = process.env.COMMUCAT_NATS_URL;
  if (!pgDsn || !redisUrl || !natsUrl) {
    throw new Error('COMMUCAT_PG_DSN, COMMUCAT_REDIS_URL and COMMUCAT_NATS_URL are not set: start the stack with scripts/stack.sh start and eval "$(scripts/stack.sh env)" (make test does both)');
  }
  return { pgDsn, redisUrl, natsUrl };
}
