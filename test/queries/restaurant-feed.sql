/* restaurantPage */
  SELECT "cuisine_type", "id", "name", "price_range", "rating" FROM restaurants 
  ORDER BY rating DESC, id DESC LIMIT $1;
