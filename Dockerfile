# The coupon service: one image, every role (choose with ROLES).
FROM node:24.22.3-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
USER node
EXPOSE 3000
# Migrations run as a separate step (the compose file's `migrate` service), never at start-up.
# The V8 flags of a process with the worker role (why: bench/lib/node-args.ts).
CMD ["node", "--max-semi-space-size=32", "--max-old-space-size=512", "--import", "tsx", "src/main.ts"]
