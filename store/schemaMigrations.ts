import mongoose, { Schema } from 'mongoose';

/**
 * schema_migrations: one document per applied data migration (store/migrations/), `_id` its number,
 * plus the lease document (`_id` "~lock") that lets one process at a time apply them.
 */
const schemaMigrationSchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String },
    appliedAt: { type: Date },
    durationMs: { type: Number },
    /** The lease document only: who holds it and until when. */
    holder: { type: String },
    lockedUntil: { type: Date },
  },
  { versionKey: false },
);

export const SchemaMigrationModel = mongoose.model('SchemaMigration', schemaMigrationSchema, 'schema_migrations');
