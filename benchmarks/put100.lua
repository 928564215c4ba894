-- wrk script: PUT 100 campaign members a call, as the clients do, cycling over 1,000
-- campaigns so the fake's state stays bounded. Arguments after "--": the access token.
local parent = 0
local body
local headers = {}

function init(args)
  headers["Authorization"] = "Zoho-oauthtoken " .. args[1]
  headers["Content-Type"] = "application/json"
  local items = {}
  for m = 0, 99 do
    items[#items + 1] = string.format('{"id":"48768760000%08d","Member_Status":"Active"}', m)
  end
  body = '{"data":[' .. table.concat(items, ",") .. ']}'
end

function request()
  parent = (parent + 1) % 1000
  -- 19-digit ids do not fit Lua's doubles: build them as text.
  local path = string.format("/crm/v8/Campaigns/3652397000000%06d/Leads", parent)
  return wrk.format("PUT", path, headers, body)
end
