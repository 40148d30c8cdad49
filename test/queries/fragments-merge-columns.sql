/* orderPagesByUserIds */
  SELECT (k.ord - 1)::int AS key_index, "o"."id", "o"."order_date", "o"."restaurant_id", "o"."user_id", "r"."location" AS "restaurant__location", "r"."name" AS "restaurant__name", "r"."rating" AS "restaurant__rating"
  FROM unnest(
  $1::"int8"[],
  $2::"timestamptz"[],
  $3::"int8"[],
  $4::"int4"[]
  ) WITH ORDINALITY AS k(user_id, after_date, after_id, lim, ord)
  CROSS JOIN LATERAL (
  SELECT "i"."id", "i"."order_date", "i"."restaurant_id", "i"."user_id" FROM orders i
  WHERE i.user_id = k.user_id AND (i.order_date, i.id) < (k.after_date, k.after_id)
  ORDER BY i.order_date DESC, i.id DESC
  LIMIT k.lim
  ) o
  LEFT JOIN restaurants r ON r.id = o.restaurant_id
  ORDER BY k.ord, o.order_date DESC, o.id DESC;
