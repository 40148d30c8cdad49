/* usersByIds */
  SELECT "id", "name" FROM users WHERE id = ANY($1::"int8"[]);

/* orderPagesByUserIds */
  SELECT 0 AS key_index, "o"."id", "o"."items", "o"."order_date", "o"."restaurant_id", "o"."total_amount", "o"."user_id", "r"."cuisine_type" AS "restaurant__cuisine_type", "r"."name" AS "restaurant__name"
  FROM (SELECT "i"."id", "i"."items", "i"."order_date", "i"."restaurant_id", "i"."total_amount", "i"."user_id" FROM orders i
  WHERE i.user_id = $1::int8 AND (i.order_date, i.id) < ($2::timestamptz, $3::int8)
  ORDER BY i.order_date DESC, i.id DESC
  LIMIT $4::int4) o
  LEFT JOIN restaurants r ON r.id = o.restaurant_id
  ORDER BY o.order_date DESC, o.id DESC;
