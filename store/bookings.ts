import mongoose, { Schema } from 'mongoose';

const bookingSchema = new Schema(
  {
    networkId: { type: String, required: true },
    bookingId: { type: String, required: true },
    locationId: { type: String },
    participantIds: { type: [String], default: [] },
    shared: { type: Boolean, default: false },
  },
  { timestamps: true, versionKey: false },
);
bookingSchema.index({ networkId: 1, bookingId: 1 }, { unique: true });
export const BookingModel = mongoose.model('Booking', bookingSchema, 'bookings');

export async function upsertBooking(networkId: string, bookingId: string, fields: { locationId?: string; participantIds: string[]; shared: boolean }): Promise<void> {
  await BookingModel.updateOne({ networkId, bookingId }, { $set: fields }, { upsert: true });
}

export async function findBooking(networkId: string, bookingId: string) {
  return BookingModel.findOne({ networkId, bookingId }).lean();
}
