import { z } from '@hono/zod-openapi';
import {
  BATCH_CODE_LENGTH,
  CODE_PREFIX_PATTERN,
  DISCOUNT_TYPES,
  ISSUE_TYPES,
  POLICY_STATUSES,
  STACKING_MODES,
} from '../../domain/index.js';
import { amount, INT32_MAX, text } from './common.js';

const instant = () =>
  z.iso
    .datetime({ offset: true, message: 'must be an ISO-8601 date-time' })
    .max(40)
    .transform((value) => new Date(value));

export const createPolicyBody = z
  .strictObject({
    name: text({ min: 1, max: 200, trim: true }),
    description: text({ max: 2000, freeText: true }).nullable().optional(),
    discountType: z.enum(DISCOUNT_TYPES),
    discountValue: z.number().int().min(1).max(INT32_MAX),
    maxDiscountAmount: amount().min(1).nullable().optional(),
    minOrderAmount: amount().optional(),
    issueType: z.enum(ISSUE_TYPES),
    totalQuantity: z.number().int().min(1).max(INT32_MAX),
    perUserLimit: z.number().int().min(1).max(10_000).optional(),
    validFrom: instant().openapi({ type: 'string', format: 'date-time', maxLength: 40 }),
    validUntil: instant().openapi({ type: 'string', format: 'date-time', maxLength: 40 }),
    validDaysAfterIssue: z.number().int().min(1).max(36_500).nullable().optional(),
    stacking: z.enum(STACKING_MODES).optional().openapi({
      description:
        'EXCLUSIVE (default): the only coupon of its order; STACKABLE: combines with other stackable coupons, one per policy',
    }),
    budget: amount().min(1).nullable().optional().openapi({
      description: 'the most the discounts of its RESERVED and USED coupons may add up to',
    }),
    publicCode: z
      .string()
      .min(4)
      .max(32)
      .regex(/^[A-Za-z0-9-]{4,32}$/, 'must be 4 to 32 of A-Z, 0-9 and -')
      .nullable()
      .optional()
      .openapi({
        description:
          'CODE policies only: a code any user may redeem, matched without regard to case; unique among all policies',
      }),
  })
  .openapi('NewPolicy');

export const policySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    discountType: z.enum(DISCOUNT_TYPES),
    discountValue: z.number(),
    maxDiscountAmount: z.number().nullable(),
    minOrderAmount: z.number(),
    issueType: z.enum(ISSUE_TYPES),
    totalQuantity: z.number(),
    perUserLimit: z.number(),
    validFrom: z.string(),
    validUntil: z.string(),
    validDaysAfterIssue: z.number().nullable(),
    status: z.enum(POLICY_STATUSES),
    issuedCount: z.number(),
    stacking: z.enum(STACKING_MODES),
    budget: z.number().nullable(),
    publicCode: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('Policy');

export const patchPolicyBody = z
  .strictObject({ status: z.enum(POLICY_STATUSES) })
  .openapi('PolicyStatusChange');

export const generateCodesBody = z
  .strictObject({ count: z.number().int().min(1).max(10_000) })
  .openapi('CodeRequest');

export const codesSchema = z.object({ codes: z.array(z.string()) }).openapi('Codes');

export const codeBatchBody = z
  .strictObject({
    count: z.number().int().min(1).max(1_000_000),
    prefix: z
      .string()
      .max(8)
      .regex(CODE_PREFIX_PATTERN, 'must be up to 8 of A-Z, 0-9 and -')
      .optional()
      .openapi({ description: 'written before each code’s random characters', example: 'BF-' }),
    length: z
      .number()
      .int()
      .min(BATCH_CODE_LENGTH.min)
      .max(BATCH_CODE_LENGTH.max)
      .optional()
      .openapi({ description: 'random characters after the prefix (default 12)' }),
  })
  .openapi('CodeBatchRequest');

export const codeBatchAcceptedSchema = z
  .object({ batchId: z.string(), jobId: z.string(), statusUrl: z.string() })
  .openapi('CodeBatchAccepted');
