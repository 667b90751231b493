import mongoose, { Schema } from 'mongoose';

const feedPostSchema = new Schema(
  {
    networkId: { type: String, required: true },
    postId: { type: String, required: true },
    authorId: { type: String, required: true },
    locationId: { type: String },
    postedAt: { type: Date, required: true },
  },
  { timestamps: true, versionKey: false },
);
feedPostSchema.index({ networkId: 1, postId: 1 }, { unique: true });
feedPostSchema.index({ networkId: 1, authorId: 1 });
export const FeedPostModel = mongoose.model('FeedPost', feedPostSchema, 'feed_posts');

export async function upsertFeedPost(networkId: string, postId: string, fields: { authorId: string; locationId?: string; postedAt: Date }): Promise<void> {
  await FeedPostModel.updateOne({ networkId, postId }, { $set: fields }, { upsert: true });
}

/** False when there was no such post. */
/** Removes the post; answers its author, or null when there was no such post. */
export async function deleteFeedPost(networkId: string, postId: string): Promise<{ authorId: string } | null> {
  // findOne + deleteOne: FerretDB 1.24 refuses a projection on findAndModify.
  const post = await FeedPostModel.findOne({ networkId, postId }).select({ authorId: 1 }).lean();
  if (!post) return null;
  const { deletedCount } = await FeedPostModel.deleteOne({ networkId, postId });
  return deletedCount > 0 ? { authorId: post.authorId } : null;
}

export async function findFeedPost(networkId: string, postId: string) {
  return FeedPostModel.findOne({ networkId, postId }).lean();
}

/** Rule 5: posting on the Feed makes a customer who hides their name reachable. */
export async function hasPostedOnFeed(networkId: string, customerId: string): Promise<boolean> {
  return (await FeedPostModel.exists({ networkId, authorId: customerId })) !== null;
}
