-- The part of issue 16's mix that Django admin also has, for wrk, against Customer Desk or the
-- Django admin peer (../shared/bench/django-admin), with the same draws: 35 list pages (searches,
-- 4 sorts, deep pages; 50 a page, Django's fixed size), 20 customer pages, 10 edit forms and 10
-- edit saves in every 75 requests. Django has one change form for the customer page and the edit
-- form; it has no server-side selection, so the toggles of bench/mixed.lua are left out.
-- wrk -t2 -c50 -d60s --latency -s bench/shared_mix.lua http://127.0.0.1:PORT -- desk|django CUSTOMERS COOKIE CSRF

local target, customers, cookie, csrf
local searches = {"", "", "", "", "a", "m", "an", "jo", "acme", "smith", "lee"}
local desk_sorts = {"name", "-name", "created", "-created"}
-- Django's `o`: the index of the list_display column (1 name, 4 created_at).
local django_sorts = {"1", "-1", "4", "-4"}
local lasts = {"Adams", "Baker", "Clark", "Young", "Zimmer", "Moore"}

function init(args)
  target, customers, cookie, csrf = args[1], tonumber(args[2]), args[3], args[4]
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
end

-- Never an Acme customer (id % 10 == 1), as in bench/mixed.lua.
local function customer()
  local id
  repeat id = math.random(1, customers) until id % 10 ~= 1
  return id
end

local function list_path()
  local q = searches[math.random(#searches)]
  local sort = math.random(4)
  local r = math.random()
  local page = 1
  if r > 0.5 and r <= 0.8 then page = math.random(2, 5)
  elseif r > 0.8 then
    if q == "" then page = math.random(1, math.floor(customers / 50)) else page = math.random(1, 40) end
  end
  if target == "django" then
    return "/admin/people/customer/?q=" .. q .. "&o=" .. django_sorts[sort] .. "&p=" .. page
  end
  return "/people/customers?q=" .. q .. "&sort=" .. desk_sorts[sort] .. "&per_page=50&page=" .. page
end

local function customer_path(id, edit)
  if target == "django" then return "/admin/people/customer/" .. id .. "/change/" end
  return "/people/customers/" .. id .. (edit and "/edit" or "")
end

local function save_body(id)
  local last = lasts[math.random(#lasts)]
  if target == "django" then
    return "csrfmiddlewaretoken=" .. csrf .. "&name=Edited+" .. last .. "+" .. id .. "&email=edited" .. id
      .. "%40bench.example&company=Edited+Ltd&phone=&created_at_0=2024-01-01&created_at_1=12%3A00%3A00&_save=Save"
  end
  return "csrf_token=" .. csrf .. "&first_name=Edited&last_name=" .. last .. "+" .. id .. "&email=edited" .. id
    .. "%40bench.example&organisation=Edited+Ltd"
end

function request()
  local headers = {["Cookie"] = cookie}
  local r = math.random(75)
  if r <= 35 then
    return wrk.format("GET", list_path(), headers)
  elseif r <= 65 then
    return wrk.format("GET", customer_path(customer(), r > 55), headers)
  end
  local id = customer()
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  return wrk.format("POST", customer_path(id, true), headers, save_body(id))
end
