/**
 * The seed's vocabulary: cuisines with their names and dishes, cities, the words of a
 * description and the distributions the generator draws from. Data only.
 */
import { cumulative } from '../../random.ts';

// `label` is how the cuisine reads in a sentence; its lower case is cuisine_type.

export type Dish = readonly [name: string, basePrice: number];
export type Cuisine = {
  type: string;
  label: string;
  prefixes: readonly string[];
  cores: readonly string[];
  dishes: readonly Dish[];
};

export const CUISINE_DATA: readonly Cuisine[] = [
  {
    type: 'italian',
    label: 'Italian',
    prefixes: ['Trattoria', 'Osteria', 'Ristorante', 'Pizzeria', 'Cucina', 'Enoteca'],
    cores: ['Bella Nonna', 'da Luigi', 'Il Forno', 'La Pergola', 'Toscana', 'Roma', 'Vesuvio', 'Al Dente'],
    dishes: [
      ['Margherita pizza', 12],
      ['Spaghetti carbonara', 15],
      ['Lasagna alla bolognese', 16],
      ['Risotto ai funghi', 17],
      ['Ossobuco', 24],
      ['Gnocchi al pesto', 14],
      ['Tiramisu', 7],
      ['Bruschetta', 8],
      ['Saltimbocca alla romana', 22],
      ["Penne all'arrabbiata", 13],
      ['Panna cotta', 7],
    ],
  },
  {
    type: 'japanese',
    label: 'Japanese',
    prefixes: ['Sushi', 'Izakaya', 'Ramen', 'Yakitori', 'Washoku', 'Kissaten'],
    cores: ['Kaze', 'Hana', 'Sakura', 'Tsuki', 'Yume', 'Hikari', 'Komorebi', 'Sora', 'Hoshi', 'Nami'],
    dishes: [
      ['Salmon nigiri', 9],
      ['Tuna sashimi', 16],
      ['Tonkotsu ramen', 15],
      ['Chicken katsu curry', 14],
      ['Tempura udon', 13],
      ['Gyoza', 7],
      ['Miso soup', 4],
      ['Chicken teriyaki', 14],
      ['Okonomiyaki', 12],
      ['Takoyaki', 8],
      ['Matcha mochi', 6],
    ],
  },
  {
    type: 'brazilian',
    label: 'Brazilian',
    prefixes: ['Churrascaria', 'Boteco', 'Cantina', 'Casa', 'Empório', 'Cozinha'],
    cores: ['Gaúcha', 'do Zé', 'Mineira', 'Bahia', 'Copacabana', 'Sabiá', 'Ipê', 'Dona Flor', 'Sertão', 'Pampa'],
    dishes: [
      ['Feijoada', 18],
      ['Picanha', 26],
      ['Pão de queijo', 6],
      ['Coxinha', 5],
      ['Moqueca de peixe', 22],
      ['Brigadeiro', 4],
      ['Acarajé', 9],
      ['Escondidinho', 15],
      ['Pastel de feira', 6],
      ['Vatapá', 16],
      ['Açaí bowl', 10],
    ],
  },
  {
    type: 'mexican',
    label: 'Mexican',
    prefixes: ['Taquería', 'Cantina', 'Cocina', 'Casa', 'Antojitos', 'Fonda'],
    cores: ['El Sol', 'Oaxaca', 'La Catrina', 'Frida', 'Los Compadres', 'Puebla', 'Mi Abuela', 'Agave Azul', 'Jalisco'],
    dishes: [
      ['Tacos al pastor', 10],
      ['Chicken enchiladas', 13],
      ['Guacamole with totopos', 8],
      ['Chiles rellenos', 14],
      ['Carnitas burrito', 12],
      ['Pozole rojo', 13],
      ['Quesadilla', 9],
      ['Mole poblano', 16],
      ['Elote', 5],
      ['Churros', 6],
      ['Cochinita pibil', 15],
    ],
  },
  {
    type: 'chinese',
    label: 'Chinese',
    prefixes: ['Golden', 'Jade', 'Red Lantern', 'Lucky', 'Imperial', 'Dragon'],
    cores: ['Palace', 'Garden', 'Dumpling House', 'Noodle Bar', 'Pavilion', 'Wok', 'Tea House', 'Dynasty', 'Lotus'],
    dishes: [
      ['Kung pao chicken', 14],
      ['Peking duck', 32],
      ['Mapo tofu', 12],
      ['Xiaolongbao', 10],
      ['Char siu bao', 8],
      ['Sweet and sour pork', 14],
      ['Dan dan noodles', 12],
      ['Hot and sour soup', 7],
      ['Wonton soup', 8],
      ['Egg fried rice', 9],
      ['Spring rolls', 6],
    ],
  },
  {
    type: 'indian',
    label: 'Indian',
    prefixes: ['Tandoori', 'Spice', 'Masala', 'Taj', 'Bombay', 'Royal'],
    cores: ['Nights', 'Route', 'Palace', 'Garden', 'Darbar', 'Mahal', 'Junction', 'Tiffin', 'Bazaar', 'Saffron'],
    dishes: [
      ['Butter chicken', 16],
      ['Chicken tikka masala', 16],
      ['Lamb rogan josh', 18],
      ['Palak paneer', 14],
      ['Chana masala', 12],
      ['Masala dosa', 11],
      ['Vegetable biryani', 14],
      ['Samosas', 6],
      ['Garlic naan', 4],
      ['Dal makhani', 12],
      ['Mango lassi', 5],
    ],
  },
  {
    type: 'thai',
    label: 'Thai',
    prefixes: ['Baan', 'Krua', 'Siam', 'Thai', 'Khao', 'Ruen'],
    cores: ['Orchid', 'Lotus', 'Basil', 'Chiang Mai', 'Lemongrass', 'Tamarind', 'Jasmine', 'Isaan', 'Sukhothai'],
    dishes: [
      ['Pad thai', 13],
      ['Green curry', 14],
      ['Tom yum goong', 12],
      ['Som tam', 9],
      ['Massaman curry', 15],
      ['Pad kra pao', 12],
      ['Tom kha gai', 11],
      ['Khao soi', 14],
      ['Panang curry', 14],
      ['Mango sticky rice', 7],
      ['Satay skewers', 9],
    ],
  },
  {
    type: 'french',
    label: 'French',
    prefixes: ['Bistro', 'Brasserie', 'Café', 'Chez', 'Maison', 'La Table de'],
    cores: ['Marcel', 'Lyon', 'Provence', 'Margaux', 'Montmartre', 'Sophie', 'Gustave', 'Colette', 'Antoine'],
    dishes: [
      ['Coq au vin', 24],
      ['Boeuf bourguignon', 26],
      ['Bouillabaisse', 30],
      ['Ratatouille', 16],
      ['Croque monsieur', 12],
      ['French onion soup', 10],
      ['Duck confit', 27],
      ['Quiche lorraine', 13],
      ['Crème brûlée', 9],
      ['Steak frites', 25],
      ['Tarte tatin', 9],
    ],
  },
  {
    type: 'american',
    label: 'American',
    prefixes: ['The', 'Big', 'Main Street', 'Liberty', 'Blue Plate', 'Route 66'],
    cores: ['Diner', 'Grill', 'Smokehouse', 'Burger Joint', 'Tavern', 'Chophouse', 'Roadhouse', 'Bar & Grill', 'Shack'],
    dishes: [
      ['Cheeseburger', 14],
      ['Buffalo wings', 12],
      ['Pulled pork sandwich', 14],
      ['Mac and cheese', 10],
      ['Clam chowder', 9],
      ['Fried chicken', 15],
      ['Caesar salad', 11],
      ['Philly cheesesteak', 14],
      ['Baby back ribs', 24],
      ['Apple pie', 7],
      ['Buttermilk pancakes', 10],
    ],
  },
  {
    type: 'arabic',
    label: 'Arabic',
    prefixes: ['Al', 'Beit', 'Bab', 'Dar', 'Souk', 'Layali'],
    cores: ['Andalus', 'Zaatar', 'Beirut', 'Damascus', 'Petra', 'Yasmine', 'Baalbek', 'Jaffa', 'Zaytoun', 'Nour'],
    dishes: [
      ['Hummus', 7],
      ['Falafel plate', 11],
      ['Chicken shawarma', 12],
      ['Tabbouleh', 8],
      ['Baba ghanoush', 7],
      ['Lamb kofta', 16],
      ['Fattoush', 8],
      ['Mansaf', 22],
      ['Kibbeh', 10],
      ["Manakish za'atar", 8],
      ['Baklava', 6],
    ],
  },
  {
    type: 'vegetarian',
    label: 'vegetarian',
    prefixes: ['Green', 'Leaf', 'Root', 'Sprout', 'Harvest', 'Garden'],
    cores: ['& Co.', 'Kitchen', 'Table', 'Bowl', 'Pantry', 'House', 'Collective', 'Canteen', 'Social'],
    dishes: [
      ['Buddha bowl', 13],
      ["Lentil shepherd's pie", 14],
      ['Mushroom risotto', 16],
      ['Halloumi burger', 14],
      ['Quinoa salad', 12],
      ['Vegetable lasagna', 15],
      ['Sweet potato curry', 13],
      ['Caprese salad', 11],
      ['Black bean burger', 13],
      ['Stuffed peppers', 13],
      ['Carrot cake', 7],
    ],
  },
  {
    type: 'korean',
    label: 'Korean',
    prefixes: ['Seoul', 'Hanok', 'Gangnam', 'Busan', 'Jeju', 'Arirang'],
    cores: ['Garden', 'House', 'BBQ', 'Table', 'Pocha', 'Sikdang', 'Grill', 'Noodle Bar', 'Kitchen', 'Alley'],
    dishes: [
      ['Bibimbap', 14],
      ['Bulgogi', 18],
      ['Kimchi jjigae', 13],
      ['Korean fried chicken', 17],
      ['Japchae', 13],
      ['Tteokbokki', 10],
      ['Samgyeopsal', 22],
      ['Sundubu jjigae', 13],
      ['Haemul pajeon', 14],
      ['Galbi', 26],
      ['Kimbap', 9],
    ],
  },
];

/** The 12 seeded cuisine_type values. */
export const CUISINES: readonly string[] = CUISINE_DATA.map((c) => c.type);

/** Relative frequency of each cuisine after the first 12 restaurants (which cover one each). */
const CUISINE_WEIGHTS = [14, 10, 6, 9, 10, 9, 7, 7, 12, 5, 5, 6];
export const CUISINE_CDF = cumulative(CUISINE_WEIGHTS);

export const PRICE_RANGES = ['low', 'medium', 'high'] as const;
export const PRICE_CDF = cumulative([35, 45, 20]);
/** Menu prices scale with the restaurant's price range. */
export const PRICE_FACTOR = [0.75, 1, 1.6];

export const CITIES: readonly { city: string; hoods: readonly string[] }[] = [
  { city: 'São Paulo', hoods: ['Pinheiros', 'Vila Madalena', 'Jardins', 'Moema', 'Liberdade', 'Itaim Bibi'] },
  { city: 'Lisbon', hoods: ['Alfama', 'Bairro Alto', 'Chiado', 'Príncipe Real', 'Belém'] },
  { city: 'New York', hoods: ['SoHo', 'Williamsburg', 'Harlem', 'East Village', 'Astoria', 'Chelsea'] },
  { city: 'London', hoods: ['Shoreditch', 'Soho', 'Camden', 'Brixton', 'Notting Hill', 'Clerkenwell'] },
  { city: 'Berlin', hoods: ['Kreuzberg', 'Mitte', 'Prenzlauer Berg', 'Neukölln', 'Friedrichshain'] },
  { city: 'Toronto', hoods: ['Kensington Market', 'Yorkville', 'Leslieville', 'The Annex'] },
  { city: 'Melbourne', hoods: ['Fitzroy', 'Carlton', 'Collingwood', 'St Kilda'] },
  { city: 'Mexico City', hoods: ['Roma Norte', 'Condesa', 'Coyoacán', 'Polanco'] },
];

/** 0–3 sentences after the opener (1–4 in all). */
export const EXTRA_SENTENCES_CDF = cumulative([30, 35, 25, 10]);
/** 1–4 lines per order, and 1–3 of each. */
export const ITEM_COUNT_CDF = cumulative([40, 32, 18, 10]);
export const QUANTITY_CDF = cumulative([75, 19, 6]);

export const VIBES = ['cozy', 'family-run', 'lively', 'modern', 'casual', 'relaxed', 'bustling', 'intimate'];
export const KINDS = ['restaurant', 'spot', 'kitchen', 'eatery', 'dining room'];

// biome-ignore format: a word list
export const FIRST_NAMES = [
  'Ana', 'Bruno', 'Carla', 'Daniel', 'Elena', 'Felipe', 'Grace', 'Hiro', 'Isabel', 'James', 'Kenji', 'Laura',
  'Mateus', 'Nadia', 'Omar', 'Priya', 'Quentin', 'Rosa', 'Samuel', 'Tanvi', 'Ursula', 'Victor', 'Wen', 'Ximena',
  'Yusuf', 'Zoe', 'Amara', 'Lucas', 'Mei', 'Rafael', 'Sofia', 'Thomas', 'Aisha', 'Diego', 'Emma', 'Jun',
];
// biome-ignore format: a word list
export const LAST_NAMES = [
  'Silva', 'Santos', 'Müller', 'Tanaka', 'Kim', 'Garcia', 'Rossi', 'Dubois', 'Smith', 'Haddad', 'Patel', 'Nguyen',
  'Costa', 'Oliveira', 'Schmidt', 'Sato', 'Park', 'Lopez', 'Bianchi', 'Martin', 'Johnson', 'Khalil', 'Sharma',
  'Chen', 'Wang', 'Ferreira', 'Yamamoto', 'Lee', 'Hernandez', 'Moreau', 'Brown', 'Nasser', 'Gupta', 'Li',
];
