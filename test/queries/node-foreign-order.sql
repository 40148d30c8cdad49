/* ordersByIdsForOwner */
  SELECT "id", "total_amount", "user_id" FROM orders
  WHERE id = ANY($1::"int8"[]) AND user_id = $2::int8;
