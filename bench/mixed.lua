-- The mixed workload of issue 16, for wrk: 35 % list pages (searches, 4 sorts, 3 page sizes,
-- deep pages), 20 % profiles, 10 % edit forms, 10 % edit saves, 25 % selection toggles.
-- wrk -t2 -c50 -d60s --latency -s bench/mixed.lua http://127.0.0.1:8767 -- CUSTOMERS[:list] COOKIE CSRF [COOKIE CSRF]...
-- CUSTOMERS:list sends the mix's list pages alone (no writes): the read-only list it is compared with;
-- CUSTOMERS:a sends only the one-letter search (`q=a`, page 1), the side load the mix is measured with.
-- DESK_THINK_MS=M (environment): each connection waits a random think time, exponential with mean M ms,
-- before each request, as a person does (wrk measures a request's latency from its sending, so the
-- wait is not in it); unset, each connection sends its next request as soon as one answers.
-- Every request is signed in, in one of the sessions given (at random). Customers edited or profiled are
-- never Acme customers (id % 10 == 1), so a bulk deletion of Acme running meanwhile leaves
-- them; edits change the last name (moving the customer in the name order) and keep the email.

local sessions, customers, list_only, one_letter

-- Defined only when pacing: wrk looks for `delay` when it loads the script.
local think_ms = tonumber(os.getenv("DESK_THINK_MS") or "")
if think_ms and think_ms > 0 then
  function delay()
    return math.floor(-think_ms * math.log(1 - math.random()))
  end
end
local searches = {"", "", "", "", "a", "m", "an", "jo", "acme", "smith", "lee"}
local sorts = {"name", "-name", "created", "-created"}
local sizes = {25, 50, 100}
local lasts = {"Adams", "Baker", "Clark", "Young", "Zimmer", "Moore"}

function init(args)
  local count, mode = args[1]:match("^(%d+):?(%a*)$")
  customers = tonumber(count)
  list_only = mode == "list"
  one_letter = mode == "a"
  sessions = {}
  for i = 2, #args, 2 do sessions[#sessions + 1] = {cookie = args[i], csrf = args[i + 1]} end
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
end

local function customer()
  local id
  repeat id = math.random(1, customers) until id % 10 ~= 1
  return id
end

local function list_path()
  local q = searches[math.random(#searches)]
  local sort = sorts[math.random(#sorts)]
  local size = sizes[math.random(#sizes)]
  local r = math.random()
  local page = 1
  if r > 0.5 and r <= 0.8 then page = math.random(2, 5)
  elseif r > 0.8 then
    -- deep: anywhere in the plain list; in a search, a page that exists for most
    if q == "" then page = math.random(1, math.floor(customers / size)) else page = math.random(1, 40) end
  end
  return "/people/customers?q=" .. q .. "&sort=" .. sort .. "&per_page=" .. size .. "&page=" .. page
end

local function form(fields)
  local parts = {}
  for k, v in pairs(fields) do parts[#parts + 1] = k .. "=" .. v end
  return table.concat(parts, "&")
end

function request()
  local session = sessions[math.random(#sessions)]
  local csrf = session.csrf
  local headers = {["Cookie"] = session.cookie}
  local r = math.random(100)
  if one_letter then
    return wrk.format("GET", "/people/customers?q=a", headers)
  elseif r <= 35 or list_only then
    return wrk.format("GET", list_path(), headers)
  elseif r <= 55 then
    return wrk.format("GET", "/people/customers/" .. customer(), headers)
  elseif r <= 65 then
    return wrk.format("GET", "/people/customers/" .. customer() .. "/edit", headers)
  elseif r <= 75 then
    local id = customer()
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    -- The bench shape's email is unique per id; keep one of our own, unique per id too.
    local body = form({csrf_token = csrf, first_name = "Edited", last_name = lasts[math.random(#lasts)] .. "+" .. id,
                       email = "edited" .. id .. "%40bench.example", organisation = "Edited+Ltd"})
    return wrk.format("POST", "/people/customers/" .. id .. "/edit", headers, body)
  else
    local first = customer()
    local ids = {}
    for i = 0, 9 do ids[#ids + 1] = first + i end
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    local body = "csrf_token=" .. csrf .. "&action=save&return_to=%3F&page_ids=" .. table.concat(ids, "%2C")
    if math.random() < 0.5 then body = body .. "&ids=" .. first end
    return wrk.format("POST", "/people/customers/selection", headers, body)
  end
end
