/* restaurantPage */
  SELECT "id", "name" FROM restaurants WHERE cuisine_type = $1
  ORDER BY name ASC, id ASC LIMIT $2;

/* restaurantCount */
  SELECT count(*)::int AS count FROM restaurants WHERE cuisine_type = $1;
